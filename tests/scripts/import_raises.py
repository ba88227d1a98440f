import json

CONFIG = json.loads("{not json")


def init():
    pass


def run(raw_data):
    return raw_data
