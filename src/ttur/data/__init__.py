"""Datasets: download with mirrors, resume and checksums; prepare into memory-mappable arrays; load them back."""

from ttur.data.prepared import PreparedImages, PreparedText, load_prepared
from ttur.data.registry import DATASETS, REAL_FILES, DatasetSpec, FileSpec

__all__ = ["DATASETS", "REAL_FILES", "DatasetSpec", "FileSpec", "PreparedImages", "PreparedText", "load_prepared"]
