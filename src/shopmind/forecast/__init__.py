"""Demand forecasting: sales panels, models, rolling-origin backtests, signals (rising, stock-outs, price) and the service."""
