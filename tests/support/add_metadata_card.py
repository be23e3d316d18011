#!/usr/bin/env python3
"""Gives a trained run's model.json a classifier that reads age, sex and site, with the run's own
classifier kept as its image-only fallback: a known metadata card for the tests of the paths that
use one (serve's fields, the page's form, predict's fallback), whatever a short training chose.

The added logistic regression ignores the embedding and rises with age (+1 per standard deviation)
and for men (+0.5), so the fields visibly change the probability.
  python3 add_metadata_card.py RUN
"""
import json
import sys

run = sys.argv[1]
card_path = f"{run}/model.json"
card = json.load(open(card_path))
embed_dim = json.load(open(f"{run}/train.json"))["embed_dim"]
sites = ["head/neck", "lower extremity", "torso", "upper extremity"]
# A card that already reads metadata keeps its own fallback.
image_only = card.get("image_only") or {k: v for k, v in card.items() if k not in ("made_from", "checkpoint")}
# Metadata columns (metadata_features.h): age z, age missing, male, female, site unknown, one per site.
coefficients = [0.0] * embed_dim + [1.0, 0.0, 0.5, 0.0, 0.0] + [0.0] * len(sites)
card.update({
    "classifier": {"type": "logistic", "c": 1.0, "balanced": True, "coefficients": coefficients, "intercept": -0.5},
    "classifier_description": "logistic C=1 + age, sex, site (test card)",
    "threshold": 0.5,
    "metadata": {"age_mean": 50.0, "age_sd": 15.0, "sites": sites},
    "image_only": image_only,
})
with open(card_path, "w") as f:
    json.dump(card, f)
