"""Compares our t-SNE map of the test codes with scikit-learn's TSNE (defaults) on the same codes.

    cargo run -p model --release --bin fmnist-ae -- embed --experiment tied --out codes.json
    python3 bench/tsne_vs_sklearn.py codes.json [--json out.json]   # needs: pip install scikit-learn

Prints seconds, trustworthiness at k=10 and 5-NN label accuracy in 2-D for both maps, and the
differences the speed issue sets targets on (trustworthiness within 0.002, 5-NN within 0.02).
"""

import json
import sys
import time

import numpy as np
from sklearn.manifold import TSNE, trustworthiness
from sklearn.neighbors import KNeighborsClassifier


def knn_accuracy(points, labels, k=5):
    """Share of points whose k nearest other points vote for their own label."""
    classifier = KNeighborsClassifier(n_neighbors=k + 1).fit(points, labels)
    neighbours = classifier.kneighbors(points, return_distance=False)[:, 1:]
    votes = labels[neighbours]
    predicted = np.array([np.bincount(row, minlength=10).argmax() for row in votes])
    return float((predicted == labels).mean())


def main(path, json_out=None):
    with open(path) as file:
        data = json.load(file)
    dim = data["dim"]
    codes = np.asarray(data["codes"], dtype=np.float32).reshape(-1, dim)
    labels = np.asarray(data["labels"], dtype=np.int64)
    ours = np.asarray(data["map"], dtype=np.float32).reshape(-1, 2)

    start = time.perf_counter()
    theirs = TSNE(n_components=2, random_state=0).fit_transform(codes)
    sklearn_seconds = time.perf_counter() - start

    rows = []
    for name, embedding, seconds in [("ours (bhtsne, native)", ours, data["seconds"]), ("scikit-learn TSNE", theirs, sklearn_seconds)]:
        rows.append((name, seconds, trustworthiness(codes, embedding, n_neighbors=10), knn_accuracy(embedding, labels)))
    print("| map | seconds | trustworthiness (k=10) | 5-NN accuracy (2-D) |")
    print("|---|---|---|---|")
    for name, seconds, trust, knn in rows:
        print(f"| {name} | {seconds:.1f} | {trust:.4f} | {knn:.4f} |")
    print(f"\ndifference (ours - scikit-learn): trustworthiness {rows[0][2] - rows[1][2]:+.4f}, 5-NN accuracy {rows[0][3] - rows[1][3]:+.4f}")
    print(f"5-NN accuracy on the 32-d codes themselves: {knn_accuracy(codes, labels):.4f}")
    if json_out:
        keys = ("seconds", "trustworthiness", "knn_accuracy")
        with open(json_out, "w") as file:
            json.dump({"ours": dict(zip(keys, rows[0][1:])), "sklearn": dict(zip(keys, rows[1][1:]))}, file)


if __name__ == "__main__":
    args = sys.argv[1:]
    json_out = args[args.index("--json") + 1] if "--json" in args else None
    paths = [a for a in args if a != "--json" and a != json_out]
    main(paths[0] if paths else "codes.json", json_out)
