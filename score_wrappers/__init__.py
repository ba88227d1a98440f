"""Entry scripts that Azure ML / azmlinfsrv load in place of the user's score.py."""
