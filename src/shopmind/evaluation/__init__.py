"""Offline evaluation: ranking metrics, splits and the `shopmind eval` runners."""
