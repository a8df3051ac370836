"""Simulated shoppers from real data: the HTTP driver behind `shopmind simulate`, the offline vectorised sessions that
validate the experiment machinery (A/A rate, A/B vs interleaving power), and the demo's labelled traffic.

Light on import: the modules load numpy only; httpx and the experiment statistics load when used.
"""
