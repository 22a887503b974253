#!/usr/bin/env python3
"""Fits the retriever's confidence models on the tune question sets and replays them on every set.

    scripts/bot-eval/dump.sh DIR                 # runs `vitrina bot eval --json --features` on every set, both modes
    scripts/bot-eval/fit.py DIR [--threshold=T] [--margin=M] [--misses]

The retriever (Sources/App/Bots/Knowledge/Retriever.swift) ranks a shop's entries by relevance and answers with the
first when its confidence reaches the threshold. The confidence is a logistic model of "the first candidate is the
right answer" over the first candidate's features:
  with vectors:    relevance, lexical score, prominence (its cosine above the mean of the query's cosines)
  without vectors: relevance (the lexical score)
This script rebuilds those features from the dumps exactly as the Swift code computes them, fits both models on the
tune sets only (an off-topic question and a wrongly ranked answerable one are both "should not answer"), and prints
the coefficients to paste into `Retriever.semanticModel` / `lexicalModel`, with leave-one-shop-out figures (how the fit
does on a shop it did not see) and the figures on every set. Questions a step before retrieval answered (hand-off,
small talk, rules) keep their outcome. Never fit on the holdout sets: they are what docs/BOTS.md reports.
"""
import glob, json, math, os, sys

# The Swift defaults (Retriever.Tuning); keep in step.
SEMANTIC_SHARE, COSINE_FLOOR, COSINE_CEILING, COSINE_PASSAGES = 0.55, 0.78, 0.90, 3


def load(directory, kind, split):
    questions = []
    for path in sorted(glob.glob(os.path.join(directory, f"{kind}.*.{split}.json"))):
        report = json.load(open(path))
        for features in report["features"]:
            features["shop"] = report["shop"]
            questions.append(features)
    return questions


def entry_cosine(entry):
    cosines = sorted(entry["cos_head"] + entry["cos_body"], reverse=True)[:COSINE_PASSAGES]
    return sum(cosines) / len(cosines) if cosines else None


def relevance(lexical, cosine):
    if cosine is None:
        return lexical
    scaled = min(1.0, max(0.0, (cosine - COSINE_FLOOR) / (COSINE_CEILING - COSINE_FLOOR)))
    return (1 - SEMANTIC_SHARE) * lexical + SEMANTIC_SHARE * scaled


def candidates(question):
    """(slug, features, relevance, entry) per candidate, best first, as Retriever.rank computes them."""
    rows = []
    for entry in question["entries"]:
        lexical = max(entry["lex_head"], entry["lex_body"])
        cosine = entry_cosine(entry)
        rows.append((relevance(lexical, cosine), lexical, cosine, entry))
    present = [row[2] for row in rows if row[2] is not None]
    mean = sum(present) / len(present) if present else 0.0
    rows = [row for row in rows if row[0] > 0]
    rows.sort(key=lambda row: -row[0])
    result = []
    for rel, lexical, cosine, entry in rows:
        features = [rel, lexical, (cosine if cosine is not None else mean) - mean] if present else [rel]
        result.append((entry["slug"], features, rel, entry))
    return result


def first_candidate(question):
    """The first candidate's slug and features."""
    ranked = candidates(question)
    return (ranked[0][0], ranked[0][1]) if ranked else (None, None)


def related(a, b):
    """A FAQ entry and the article its buttons link to answer the same thing (KnowledgeStep.related)."""
    return (a["source"] == "faq" and b["source"] == "article" and b["slug"] in a["links"]) or (
        b["source"] == "faq" and a["source"] == "article" and a["slug"] in b["links"])


def answer(question, model, threshold, margin):
    """The slug the knowledge step answers with, "?clarify" when it asks back, None for the fallback."""
    ranked = candidates(question)
    if not ranked or confidence(model, ranked[0][1]) < threshold:
        return None
    if len(ranked) > 1:
        second = ranked[1]
        if confidence(model, second[1]) >= threshold and ranked[0][2] - second[2] < margin and not related(
                ranked[0][3], second[3]):
            return "?clarify"
    return ranked[0][0]


def retrieval_questions(questions):
    """(features, should answer, question) for the questions that reached retrieval."""
    rows = []
    for question in questions:
        if question["step"] not in ("knowledge", "clarify", "fallback") or question["expected"] == "handoff":
            continue
        slug, features = first_candidate(question)
        right = question["expected"] != "none" and slug in [s.strip() for s in question["expected"].split("|")]
        rows.append((features, right, question))
    return rows


def fit(rows, l2=0.01, rounds=20000, rate=0.5):
    """Logistic regression by gradient descent on standardised features; returns (bias, weights) in raw units."""
    data = [(features, 1.0 if right else 0.0) for features, right, _ in rows if features is not None]
    width = len(data[0][0])
    means = [sum(f[i] for f, _ in data) / len(data) for i in range(width)]
    spreads = [math.sqrt(sum((f[i] - means[i]) ** 2 for f, _ in data) / len(data)) or 1.0 for i in range(width)]
    z = [([(f[i] - means[i]) / spreads[i] for i in range(width)], y) for f, y in data]
    weights, bias = [0.0] * width, 0.0
    for _ in range(rounds):
        gradient, bias_gradient = [0.0] * width, 0.0
        for x, y in z:
            p = 1 / (1 + math.exp(-(bias + sum(w * v for w, v in zip(weights, x)))))
            for i in range(width):
                gradient[i] += (p - y) * x[i]
            bias_gradient += p - y
        weights = [w - rate * (g / len(z) + l2 * w) for w, g in zip(weights, gradient)]
        bias -= rate * bias_gradient / len(z)
    raw = [w / s for w, s in zip(weights, spreads)]
    return bias - sum(w * m / s for w, m, s in zip(weights, means, spreads)), raw


def confidence(model, features):
    bias, weights = model
    return 1 / (1 + math.exp(-(bias + sum(w * v for w, v in zip(weights, features)))))


def outcome(directory, kind, split, model, threshold, margin=0.01):
    """right first / answerable, kept out / off-topic, handed off / hand-off requests; and the misses."""
    right = answerable = kept = off_topic = handed = handoffs = 0
    misses = []
    for question in load(directory, kind, split):
        expected = question["expected"]
        if expected == "handoff":
            handoffs += 1
            handed += question["step"] == "handoff"
            continue
        if question["step"] in ("knowledge", "clarify", "fallback"):
            answered = answer(question, model, threshold, margin)
        else:
            answered = "!" + question["step"]
        if expected == "none":
            off_topic += 1
            kept += answered is None
            if answered is not None:
                misses.append((question["shop"], question["question"], expected, answered))
        else:
            answerable += 1
            good = answered in [s.strip() for s in expected.split("|")]
            right += good
            if not good:
                misses.append((question["shop"], question["question"], expected, answered))
    return (right, answerable, kept, off_topic, handed, handoffs), misses


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    directory = args[0] if args else "/tmp/bot-eval"
    threshold, margin = 0.5, 0.01
    for a in sys.argv[1:]:
        if a.startswith("--threshold="):
            threshold = float(a.split("=", 1)[1])
        if a.startswith("--margin="):
            margin = float(a.split("=", 1)[1])
    names = {"sem": "with vectors", "lex": "lexical"}
    for kind in ("sem", "lex"):
        tune = retrieval_questions(load(directory, kind, "tune"))
        model = fit(tune)
        labels = ["relevance", "lexical", "prominence"][: len(model[1])]
        print(f"{names[kind]}: bias {model[0]:.2f}, " + ", ".join(f"{l} {w:.2f}" for l, w in zip(labels, model[1])))
        shops = sorted({q["shop"] for _, _, q in tune})
        held = [0, 0, 0, 0]
        for shop in shops:
            other = fit([row for row in tune if row[2]["shop"] != shop], rounds=5000)
            for features, right, question in tune:
                if question["shop"] != shop or features is None:
                    continue
                answered = confidence(other, features) >= threshold
                if question["expected"] == "none":
                    held[3] += 1
                    held[2] += not answered
                else:
                    held[1] += 1
                    held[0] += answered and right
        print(f"  leave one shop out (tune): right {held[0]}/{held[1]}, kept out {held[2]}/{held[3]}")
        for split in ("tune", "holdout"):
            (r, a, k, o, h, hs), misses = outcome(directory, kind, split, model, threshold, margin)
            print(f"  {split}: right {r}/{a} ({100 * r / max(1, a):.1f} %), kept out {k}/{o} ({100 * k / max(1, o):.1f} %), "
                  f"hand-offs {h}/{hs}")
            if "--misses" in sys.argv and split == "tune":
                for miss in misses:
                    print("     ", miss)


if __name__ == "__main__":
    main()
