"""Packed n-gram JSD (ttur.metrics.jsd) vs the reference's dictionary implementation, side by side in one process.

Measures, on a seeded synthetic corpus with English-like character statistics (default 1,000,000 lines of 32
characters): building the real 6-gram model (time and tracemalloc peak), and one evaluation of 640 generated
sequences against the prebuilt real models for n = 4 and 6. Times are taken without tracemalloc, peaks in a
separate traced run, so tracing overhead does not distort either side's timing.

    .venv/bin/python benchmarks/jsd_speed.py [--lines 1000000] [--scale-lines 10000000]

--scale-lines additionally builds our full model (n = 1..6) on that many lines to measure it at One Billion Word size.
"""

from __future__ import annotations

import argparse
import collections
import gc
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ttur.metrics.jsd import JsdEvaluator, build_ngram_model
from ttur.metrics.ngrams import NgramModel, count_ngrams

SEQ_LEN = 32
EVAL_SAMPLES = 640
# Relative frequencies of English letters (per 1000 letters).
LETTERS = dict(
    zip(
        "etaoinshrdlcumwfgypbvkjxqz",
        (127, 91, 82, 75, 70, 67, 63, 61, 60, 43, 40, 28, 28, 24, 24, 22, 20, 20, 19, 15, 10, 8, 2, 2, 1, 1),
        strict=True,
    )
)
PUNCT = [",", ".", "'s", '"', "-", "(", ")", ":", "$", "%", "'", ";", "?", "é"]


class DictNgramModel:
    """The reference algorithm: a defaultdict of n-gram tuples, one increment per occurrence, js_with in Python."""

    def __init__(self, n: int, samples: list[tuple[str, ...]]) -> None:
        self.n = n
        self.samples = samples
        self.counts: collections.defaultdict[tuple[str, ...], int] = collections.defaultdict(int)
        self.total = 0
        for ngram in self.ngrams():
            self.counts[ngram] += 1
            self.total += 1

    def ngrams(self) -> Iterator[tuple[str, ...]]:
        for sample in self.samples:
            for i in range(len(sample) - self.n + 1):
                yield sample[i : i + self.n]

    def unique_ngrams(self) -> set[tuple[str, ...]]:
        return set(self.counts.keys())

    def log_likelihood(self, ngram: tuple[str, ...]) -> float:
        if ngram not in self.counts:
            return -np.inf
        return np.log(self.counts[ngram]) - np.log(self.total)

    def js_with(self, p: DictNgramModel) -> float:
        log_p = np.array([p.log_likelihood(g) for g in p.unique_ngrams()])
        log_q = np.array([self.log_likelihood(g) for g in p.unique_ngrams()])
        log_m = np.logaddexp(log_p - np.log(2), log_q - np.log(2))
        kl_p_m = np.sum(np.exp(log_p) * (log_p - log_m))
        log_p = np.array([p.log_likelihood(g) for g in self.unique_ngrams()])
        log_q = np.array([self.log_likelihood(g) for g in self.unique_ngrams()])
        log_m = np.logaddexp(log_p - np.log(2), log_q - np.log(2))
        kl_q_m = np.sum(np.exp(log_q) * (log_q - log_m))
        return 0.5 * (kl_p_m + kl_q_m) / np.log(2)


class Corpus:
    """Seeded Zipfian pseudo-words spelled with English letter frequencies, tokenized-news style lines."""

    def __init__(self, seed: int, vocab_words: int = 30_000) -> None:
        rng = np.random.default_rng(seed)
        letters = np.array(list(LETTERS))
        freq = np.array(list(LETTERS.values()), dtype=float)
        lengths = np.clip(rng.poisson(4.0, size=vocab_words) + 1, 1, 14)
        words = ["".join(rng.choice(letters, size=k, p=freq / freq.sum())) for k in lengths]
        words[: len(PUNCT)] = PUNCT  # punctuation tokens are among the most frequent "words", as in news text
        self.words = np.array(words, dtype=object)
        ranks = np.arange(1, vocab_words + 1, dtype=float)
        self.word_p = ranks**-1.05 / np.sum(ranks**-1.05)
        chars = {c for w in words for c in w}
        self.charmap = ["unk", "`", " ", *sorted(chars | {c.upper() for c in chars} - {"`", " "})]
        self.seed = seed

    def lines(self, count: int, seed_offset: int = 0) -> Iterator[str]:
        """Lines of 1..12 words (some shorter than 32 characters, so padding n-grams occur); capitalised start."""
        rng = np.random.default_rng((self.seed, seed_offset))
        chunk = 100_000
        for start in range(0, count, chunk):
            size = min(chunk, count - start)
            n_words = rng.integers(1, 13, size=size)
            picks = self.words[rng.choice(len(self.words), size=int(n_words.sum()), p=self.word_p)]
            ends = np.cumsum(n_words)
            for stop, k in zip(ends, n_words, strict=True):
                line = " ".join(picks[stop - k : stop])
                yield line[:1].upper() + line[1:]

    def encode(self, lines: list[str]) -> np.ndarray:
        lookup = np.zeros(0x110000, dtype=np.uint16)
        for token, char in enumerate(self.charmap[1:], start=1):
            lookup[ord(char)] = token
        padded = "".join(line[:SEQ_LEN].ljust(SEQ_LEN, "`") for line in lines)
        return lookup[np.frombuffer(padded.encode("utf-32-le"), dtype="<u4")].reshape(len(lines), SEQ_LEN)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def traced_peak(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated (Python objects and numpy buffers) while fn runs, above what was live before."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    result = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del result
    return peak


def corrupt(tokens: np.ndarray, vocab: int, rate: float, seed: int) -> np.ndarray:
    """Generated-looking samples: real-like lines with a fraction of the positions replaced by random symbols."""
    rng = np.random.default_rng(seed)
    out = tokens.copy()
    mask = rng.random(out.shape) < rate
    out[mask] = rng.integers(1, vocab, size=int(mask.sum()))
    return out


def bench_build(corpus: Corpus, tokens: np.ndarray, samples: list[tuple[str, ...]]) -> DictNgramModel:
    """Build the real 6-gram model both ways; returns the dictionary model for the evaluation benchmark."""
    vocab = len(corpus.charmap)
    print("\n[build the real 6-gram model]")
    peak_ours = traced_peak(lambda: count_ngrams(tokens, 6, vocab))
    t_ours, (keys6, _) = timed(lambda: count_ngrams(tokens, 6, vocab))
    print(f"ours : {t_ours:8.2f} s  peak {peak_ours / 2**20:9.1f} MiB  ({len(keys6):,} distinct 6-grams)")
    peak_dict = traced_peak(lambda: DictNgramModel(6, samples))
    t_dict, dict6 = timed(lambda: DictNgramModel(6, samples))
    print(f"dict : {t_dict:8.2f} s  peak {peak_dict / 2**20:9.1f} MiB  ({len(dict6.counts):,} distinct 6-grams)")
    assert len(dict6.counts) == len(keys6)
    print(f"ratio: {t_dict / t_ours:.1f}x faster, {peak_dict / peak_ours:.1f}x leaner")
    return dict6


def bench_evaluate(corpus: Corpus, model: NgramModel, truth: dict[int, DictNgramModel], seed: int) -> np.ndarray:
    """One evaluation of 640 generated-looking sequences, n = 4 and 6; returns the generated tokens."""
    print(f"\n[one evaluation: {EVAL_SAMPLES} generated sequences vs the prebuilt model, n = 4 and 6]")
    vocab = len(corpus.charmap)
    fake = corrupt(corpus.encode(list(corpus.lines(EVAL_SAMPLES, seed_offset=1))), vocab, rate=0.2, seed=seed)
    fake_samples = [tuple(corpus.charmap[i] for i in row) for row in fake.tolist()]
    evaluator = JsdEvaluator(model, [4, 6])
    runs = [timed(lambda: evaluator.evaluate(fake)) for _ in range(5)]
    t_eval, ours = float(np.median([r[0] for r in runs])), runs[0][1]
    t_js, reference = timed(
        lambda: {f"jsd{n}": float(DictNgramModel(n, fake_samples).js_with(truth[n])) for n in truth}
    )
    print(f"ours : {t_eval * 1e3:8.2f} ms  {ours}")
    print(f"dict : {t_js * 1e3:8.0f} ms  {reference}")
    print(f"ratio: {t_js / t_eval:.0f}x faster; max |difference| {max(abs(ours[k] - reference[k]) for k in ours):.1e}")
    return fake


def bench_scale(corpus: Corpus, lines: int, fake: np.ndarray) -> None:
    """Our full model (n = 1..6) at One Billion Word size: time, peak memory, one evaluation."""
    print(f"\n[ours at {lines:,} lines: all orders n = 1..6, then one evaluation]")
    big = np.empty((lines, SEQ_LEN), dtype=np.uint16)
    block: list[str] = []
    filled = 0
    for line in corpus.lines(lines, seed_offset=2):
        block.append(line)
        if len(block) == 100_000:
            big[filled : filled + len(block)] = corpus.encode(block)
            filled += len(block)
            block = []
    if block:
        big[filled:] = corpus.encode(block)
    t_big, size, t_eval = _build_and_evaluate(big, corpus.charmap, fake)
    print(f"ours : {t_big:8.1f} s  ({size / 2**20:.0f} MiB model); one evaluation n = 4, 6: {t_eval * 1e3:.2f} ms")
    peak = traced_peak(lambda: build_ngram_model(big, 6, charmap=corpus.charmap))
    print(f"peak {peak / 2**20:.1f} MiB above the {big.nbytes / 2**20:.0f} MiB token array")


def _build_and_evaluate(tokens: np.ndarray, charmap: list[str], fake: np.ndarray) -> tuple[float, int, float]:
    t_build, model = timed(lambda: build_ngram_model(tokens, 6, charmap=charmap))
    print("distinct n-grams: " + ", ".join(f"n={n}: {len(model.keys[n]):,}" for n in range(1, 7)))
    size = sum(model.keys[n].nbytes + model.counts[n].nbytes for n in range(1, 7))
    evaluator = JsdEvaluator(model, [4, 6])
    t_eval = float(np.median([timed(lambda: evaluator.evaluate(fake))[0] for _ in range(5)]))
    return t_build, size, t_eval


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="real corpus size (default 1,000,000)")
    parser.add_argument("--scale-lines", type=int, default=0, help="also build our n=1..6 model on this many lines")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    corpus = Corpus(args.seed)
    t, lines = timed(lambda: list(corpus.lines(args.lines)))
    samples = [tuple(line[:SEQ_LEN].ljust(SEQ_LEN, "`")) for line in lines]  # the reference's tuples of characters
    tokens = corpus.encode(lines)  # the prepared dataset's uint16 tokens
    print(f"corpus: {len(tokens):,} lines x {SEQ_LEN} chars, vocabulary {len(corpus.charmap)} (made in {t:.1f} s)")

    dict6 = bench_build(corpus, tokens, samples)
    t_full, model = timed(lambda: build_ngram_model(tokens, 6, charmap=corpus.charmap))
    peak_full = traced_peak(lambda: build_ngram_model(tokens, 6, charmap=corpus.charmap))
    print(f"ours, all orders n = 1..6: {t_full:.2f} s, peak {peak_full / 2**20:.1f} MiB")
    print("distinct n-grams: " + ", ".join(f"n={n}: {len(model.keys[n]):,}" for n in range(1, 7)))
    t_dict4, dict4 = timed(lambda: DictNgramModel(4, samples))
    print(f"(dict 4-gram model for the evaluation built in {t_dict4:.1f} s)")
    fake = bench_evaluate(corpus, model, {4: dict4, 6: dict6}, args.seed)
    if args.scale_lines:
        del dict4, dict6, samples, model
        gc.collect()
        bench_scale(corpus, args.scale_lines, fake)


if __name__ == "__main__":
    main()
