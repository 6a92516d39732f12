"""scikit-learn yardstick for the jiesu classifier benchmark.

Reads the fold file written by `examples/classify_bench.rs` (kind, fold, exclude_folds, label,
text, words) and, for each fold, trains word (1-2) + character (1-3) TF-IDF + LinearSVC on the
same training rows the Rust model saw, then scores the held-out raw rows. Word features use
the segmentation written by the Rust side (jieba-rs) so both learners see the same words; the
segmentation time is therefore not in the sklearn timings. Prints JSON.
"""

import csv
import json
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC


def split_words(doc):
    return doc.split()


def main(path):
    csv.field_size_limit(10**8)
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    folds = sorted({int(r["fold"]) for r in rows if r["kind"] == "raw"})

    def pick(col):
        return FunctionTransformer(lambda docs: [d[col] for d in docs])

    results = []
    for k in folds:
        train = [r for r in rows if (r["kind"] == "raw" and int(r["fold"]) != k)
                 or (r["kind"] == "tokens" and str(k) not in r["exclude_folds"].split())]
        test = [r for r in rows if r["kind"] == "raw" and int(r["fold"]) == k]
        model = make_pipeline(
            FeatureUnion([
                ("words", make_pipeline(pick("words"), TfidfVectorizer(
                    tokenizer=split_words, token_pattern=None, lowercase=False,
                    ngram_range=(1, 2), sublinear_tf=True, min_df=1))),
                ("chars", make_pipeline(pick("text"), TfidfVectorizer(
                    analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1))),
            ]),
            LinearSVC(C=1.0),
        )
        started = time.perf_counter()
        model.fit(train, [r["label"] for r in train])
        fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        predicted = model.predict(test)
        predict_seconds = time.perf_counter() - started
        truth = [r["label"] for r in test]
        results.append({
            "fold": k,
            "train": len(train),
            "test": len(test),
            "macro_f1": f1_score(truth, predicted, average="macro"),
            "accuracy": accuracy_score(truth, predicted),
            "fit_seconds": fit_seconds,
            "texts_per_sec": len(test) / predict_seconds,
        })

    def mean(key):
        return sum(r[key] for r in results) / len(results)

    print(json.dumps({
        "model": "TfidfVectorizer(words 1-2, sublinear) + TfidfVectorizer(char 1-3, sublinear) + LinearSVC(C=1)",
        "folds": results,
        "mean_macro_f1": mean("macro_f1"),
        "mean_accuracy": mean("accuracy"),
        "mean_fit_seconds": mean("fit_seconds"),
        "mean_texts_per_sec": mean("texts_per_sec"),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
