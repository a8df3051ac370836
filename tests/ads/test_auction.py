"""GSP on tiny exact cases."""

from __future__ import annotations

import numpy as np

from shopmind.ads.auction import ecpm, gsp


def test_gsp_exact_prices():
    bid = np.array([2.0, 1.0, 3.0])
    pctr = np.array([0.1, 0.3, 0.05])
    cpc = np.ones(3, bool)
    score = ecpm(pctr, bid, cpc, np.ones(3))  # [200, 300, 150]
    r = gsp(score, pctr, bid, cpc, np.arange(3), k=2)
    assert r.winners.tolist() == [1, 0]
    # each pays the eCPM of the one below divided by its own pCTR: 200/(1000·0.3), 150/(1000·0.1)
    np.testing.assert_allclose(r.prices, [200 / 300, 1.5])
    assert (r.prices <= bid[r.winners]).all()


def test_last_winner_pays_reserve_and_one_slot_per_campaign():
    bid = np.array([1.0, 0.9, 0.5])
    pctr = np.array([0.1, 0.1, 0.1])
    cpc = np.ones(3, bool)
    score = ecpm(pctr, bid, cpc, np.ones(3))
    r = gsp(score, pctr, bid, cpc, np.array([7, 7, 8]), k=3, reserve_cpc=0.05)
    assert r.winners.tolist() == [0, 2]  # campaign 7's second product cannot take a second slot
    np.testing.assert_allclose(r.prices, [0.5, 0.05])


def test_cpm_and_gate():
    bid = np.array([5.0, 4.0, 100.0])  # CPM bids
    pctr = np.array([0.01, 0.01, 0.01])
    cpc = np.zeros(3, bool)
    score = ecpm(pctr, bid, cpc, np.array([1.0, 1.0, 0.0]))  # the 100 CPM ad is irrelevant: gated out
    r = gsp(score, pctr, bid, cpc, np.arange(3), k=1, reserve_cpm=0.5)
    assert r.winners.tolist() == [0]
    np.testing.assert_allclose(r.prices, [4.0])
