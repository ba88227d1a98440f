"""AZUREML_MODEL_DIR is not set: os.getenv returns None and os.path.join fails with a TypeError."""

import os

import joblib


def init():
    global model
    model = joblib.load(os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model.pkl"))


def run(raw_data):
    return model
