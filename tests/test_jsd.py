"""JSD metric against a direct dictionary transcription of the reference's NgramLanguageModel.js_with."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import numpy as np
import pytest

from ttur.cli import main
from ttur.metrics import ngrams
from ttur.metrics.jsd import JsdEvaluator, build_ngram_model
from ttur.metrics.ngrams import KeyLayout, NgramModel

TOL = 1e-12  # absolute agreement with the dictionary reference, in bits
SEQ_LEN = 32
ALPHABET = list("etaoinshrdlucmfwypvbgkjqxz ETAOI.,'-0123456789") + ["é", "ü", "ß", "€", "中", "😀"]


class DictNgramModel:
    """The reference definition with Counters over tuples: p(g) = count(g) / total, no smoothing."""

    def __init__(self, n: int, samples: list[tuple]) -> None:
        self.counts = collections.Counter(s[i : i + n] for s in samples for i in range(len(s) - n + 1))
        self.total = sum(self.counts.values())

    def log_likelihood(self, ngram: tuple) -> float:
        return np.log(self.counts[ngram]) - np.log(self.total) if ngram in self.counts else -np.inf

    def js_with(self, p: DictNgramModel) -> float:
        """Each KL is summed over its own distribution's support; the result is in bits."""

        def kl(support: set, first: DictNgramModel, second: DictNgramModel) -> float:
            log_a = np.array([first.log_likelihood(g) for g in support])
            log_b = np.array([second.log_likelihood(g) for g in support])
            log_m = np.logaddexp(log_a - np.log(2), log_b - np.log(2))
            return float(np.sum(np.exp(log_a) * (log_a - log_m)))

        return 0.5 * (kl(set(p.counts), p, self) + kl(set(self.counts), self, p)) / np.log(2)


def pad(line: str, seq_len: int = SEQ_LEN) -> tuple[str, ...]:
    """The reference's load_dataset: characters, truncated to seq_len, padded with backticks."""
    return tuple(line[:seq_len]) + ("`",) * (seq_len - len(line[:seq_len]))


def random_lines(rng: np.random.Generator, count: int, alphabet: list[str]) -> list[str]:
    """Lines of 0..60 characters (empty and over-long ones included) with skewed character frequencies."""
    weights = 1.0 / np.arange(1, len(alphabet) + 1)
    weights /= weights.sum()
    lengths = rng.integers(0, 61, size=count)
    return ["".join(rng.choice(alphabet, size=length, p=weights)) for length in lengths]


def encode(samples: list[tuple[str, ...]], charmap: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(charmap)}
    return np.array([[index.get(c, 0) for c in s] for s in samples], dtype=np.uint16)


def reference_jsd(real: list[tuple], fake: list[tuple], n: int) -> float:
    return DictNgramModel(n, fake).js_with(DictNgramModel(n, real))


@pytest.fixture(scope="module")
def corpora() -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], list[str]]:
    rng = np.random.default_rng(0)
    real = [pad(line) for line in random_lines(rng, 300, ALPHABET)] + [pad(""), pad("x" * 80)]
    fake = [pad(line) for line in random_lines(rng, 64, ALPHABET[:30])] + real[:16]
    charmap = ["unk", *sorted({c for s in real + fake for c in s})]
    return real, fake, charmap


def test_matches_dictionary_reference_for_n_1_to_6(corpora) -> None:
    real, fake, charmap = corpora
    model = build_ngram_model(encode(real, charmap), 6, charmap=charmap)
    ours = JsdEvaluator(model, range(1, 7)).evaluate(encode(fake, charmap))
    for n in range(1, 7):
        reference = reference_jsd(real, fake, n)
        assert 0.0 < reference < 1.0
        assert abs(ours[f"jsd{n}"] - reference) <= TOL, n


def test_identical_corpora_give_zero_and_disjoint_give_one(corpora) -> None:
    real, _, charmap = corpora
    tokens = encode(real, charmap)
    model = build_ngram_model(tokens, 6, charmap=charmap)
    same = JsdEvaluator(model, [1, 4, 6]).evaluate(tokens)
    # Disjoint: lines made only of a character that never occurs in the real corpus.
    other = [pad("§" * 40)] * 5
    other_tokens = encode(other, charmap)  # "§" is outside the charmap: every token is 0 ("unk")
    assert not other_tokens.any() and tokens.all()
    disjoint = JsdEvaluator(model, [1, 4, 6]).evaluate(other_tokens)
    for n in (1, 4, 6):
        assert abs(reference_jsd(real, real, n) - 0.0) <= TOL
        assert same[f"jsd{n}"] == 0.0
        assert abs(reference_jsd(real, other, n) - 1.0) <= TOL
        assert disjoint[f"jsd{n}"] == 1.0


def test_two_word_keys_match_reference_and_chunking() -> None:
    # 3000 symbols: 3000**6 > 2**64, so 6-grams are packed into two uint64 words.
    vocab = 3000
    assert KeyLayout.for_ngram(vocab, 6).words == 2 and KeyLayout.for_ngram(vocab, 5).words == 1
    rng = np.random.default_rng(1)
    real = rng.integers(0, 6, size=(200, 10)) * 500 + rng.integers(0, 2, size=(200, 10))
    fake = np.concatenate([real[:20], rng.integers(0, vocab, size=(20, 10))])
    one_shot = build_ngram_model(real.astype(np.uint16), 6, vocab_size=vocab)
    chunked = build_ngram_model(real.astype(np.uint16), 6, vocab_size=vocab, chunk_lines=7)
    ours = JsdEvaluator(chunked, [4, 5, 6], chunk_lines=3).evaluate(fake)
    for n in (4, 5, 6):
        np.testing.assert_array_equal(chunked.keys[n], one_shot.keys[n])
        np.testing.assert_array_equal(chunked.counts[n], one_shot.counts[n])
        reference = reference_jsd([tuple(r) for r in real.tolist()], [tuple(r) for r in fake.tolist()], n)
        assert abs(ours[f"jsd{n}"] - reference) <= TOL, n


def test_chunked_building_equals_one_shot(corpora, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ngrams, "_MOVE_BLOCK", 7)  # many small blocks when the table grows in place
    real, _, charmap = corpora
    tokens = encode(real, charmap)
    one_shot = build_ngram_model(tokens, 6, charmap=charmap)
    for chunk_lines in (1, 5, 64):
        chunked = build_ngram_model(tokens, 6, charmap=charmap, chunk_lines=chunk_lines)
        for n in range(1, 7):
            np.testing.assert_array_equal(chunked.keys[n], one_shot.keys[n])
            np.testing.assert_array_equal(chunked.counts[n], one_shot.counts[n])
    # Counts agree with a Counter over tuples, and the keys are sorted and distinct.
    for n in (1, 6):
        assert sorted(one_shot.counts[n].tolist()) == sorted(DictNgramModel(n, real).counts.values())
        assert np.all(one_shot.keys[n][1:, 0] > one_shot.keys[n][:-1, 0])


def test_save_load_round_trip(tmp_path: Path, corpora) -> None:
    real, fake, charmap = corpora
    charmap = [*charmap, "\x00", '"']
    model = build_ngram_model(encode(real, charmap), 6, charmap=charmap)
    model.meta = {"source": "test", "lines": len(real)}
    model.save(tmp_path / "model.npz")
    loaded = NgramModel.load(tmp_path / "model.npz")
    assert (loaded.vocab_size, loaded.max_n, loaded.seq_len) == (len(charmap), 6, SEQ_LEN)
    assert loaded.charmap == charmap and loaded.meta == model.meta
    for n in range(1, 7):
        np.testing.assert_array_equal(loaded.keys[n], model.keys[n])
        np.testing.assert_array_equal(loaded.counts[n], model.counts[n])
        assert loaded.counts[n].dtype == np.uint32 and loaded.total(n) == len(real) * (SEQ_LEN - n + 1)
    tokens = encode(fake, charmap)
    assert JsdEvaluator(loaded, [4, 6]).evaluate(tokens) == JsdEvaluator(model, [4, 6]).evaluate(tokens)
    np.savez(tmp_path / "other.npz", mu=np.zeros(3))
    with pytest.raises(ValueError, match="not an n-gram model"):
        NgramModel.load(tmp_path / "other.npz")
    # a model cut short (interrupted copy) and a plain .npy renamed to .npz are ValueErrors, which `ttur jsd`
    # turns into its one-line "rebuild it with `ttur ngrams`" error
    cut = tmp_path / "cut.npz"
    cut.write_bytes((tmp_path / "model.npz").read_bytes()[:1000])
    with pytest.raises(ValueError, match="damaged"):
        NgramModel.load(cut)
    with open(tmp_path / "array.npz", "wb") as handle:
        np.save(handle, np.zeros(3))
    with pytest.raises(ValueError, match="not an n-gram model"):
        NgramModel.load(tmp_path / "array.npz")


def test_rejects_tokens_outside_vocabulary(corpora) -> None:
    real, _, charmap = corpora
    model = build_ngram_model(encode(real, charmap), 4, charmap=charmap)
    with pytest.raises(ValueError, match="token ids"):
        JsdEvaluator(model, [4]).evaluate(np.full((2, SEQ_LEN), len(charmap)))
    with pytest.raises(ValueError, match="within 1..4"):
        JsdEvaluator(model, [6])


def write_text(path: Path, samples: list[tuple[str, ...]]) -> Path:
    path.write_text("".join("".join(s).rstrip("`") + "\n" for s in samples), encoding="utf-8")
    return path


def test_cli_text_files_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(2)
    real_lines = [*random_lines(rng, 120, ALPHABET), "", "ü" * 50]
    fake_lines = random_lines(rng, 40, ALPHABET[:20]) + real_lines[:10]
    (tmp_path / "real.txt").write_text("\n".join(real_lines) + "\n", encoding="utf-8")
    (tmp_path / "fake.txt").write_text("\r\n".join(fake_lines), encoding="utf-8")  # CRLF, no final newline
    assert main(["jsd", str(tmp_path / "real.txt"), str(tmp_path / "fake.txt"), "--n", "4", "--n", "6", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"jsd4", "jsd6"}
    for n in (4, 6):
        reference = reference_jsd([pad(x) for x in real_lines], [pad(x) for x in fake_lines], n)
        assert abs(result[f"jsd{n}"] - reference) <= TOL
    assert main(["jsd", str(tmp_path / "real.txt"), str(tmp_path / "fake.txt"), "--n", "2", "--seq-len", "8"]) == 0
    line = capsys.readouterr().out.split()
    reference = reference_jsd([pad(x, 8) for x in real_lines], [pad(x, 8) for x in fake_lines], 2)
    assert line[0] == "jsd2" and abs(float(line[1]) - reference) <= TOL


def test_cli_ngrams_model_from_prepared_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(3)
    lines = [pad(x) for x in random_lines(rng, 150, ALPHABET)]
    # A prepared text dataset in the stage's format; the charmap is cut short so rare characters become "unk".
    counts = collections.Counter(c for s in lines for c in s)
    charmap = ["unk", *[c for c, _ in counts.most_common(30)]]
    prep = tmp_path / "prepared"
    prep.mkdir()
    np.save(prep / "tokens.npy", encode(lines, charmap))
    (prep / "charmap.json").write_text(json.dumps(charmap), encoding="utf-8")
    assert main(["ngrams", str(prep), str(tmp_path / "lm.npz"), "--max-n", "6"]) == 0
    capsys.readouterr()
    fake_lines = random_lines(rng, 30, ALPHABET)
    fake = write_text(tmp_path / "fake.txt", [pad(x) for x in fake_lines])
    assert main(["jsd", str(tmp_path / "lm.npz"), str(fake), "--n", "4", "--n", "6", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    known = set(charmap[1:])
    unk = [tuple(c if c in known else "unk" for c in pad(x)) for x in fake_lines]
    real_unk = [tuple(c if c in known else "unk" for c in s) for s in lines]
    for n in (4, 6):
        assert abs(result[f"jsd{n}"] - reference_jsd(real_unk, unk, n)) <= TOL
    assert main(["jsd", str(tmp_path / "lm.npz"), str(fake), "--seq-len", "16"]) == 2
    assert main(["ngrams", str(tmp_path / "missing"), str(tmp_path / "x.npz")]) == 2
    assert "ttur prepare" in capsys.readouterr().err
