"""Features for the global gradient-boosting model, as whole-panel arrays (no per-row Python loops).

A feature of target period t at lead L only reads sales up to the origin o = t − L (lags, windows, the
level) and covariates known in advance (price, deal, feature ad, calendar) at t itself. Every feature is
an (n_series, n_periods) array indexed by the target period, so a training set for many origins is a mask.
"""

from __future__ import annotations

import numpy as np

from shopmind.forecast.data import Panel, ffill

LAGS = (0, 1, 2, 3, 4, 5, 6, 7, 9, 11)  # y at origin − k
WINDOWS = (4, 8, 13, 26, 52)
PRICE_LIKE = ("price",)


def _shift(a: np.ndarray, lead: int) -> np.ndarray:
    """Column t of the result holds column t − lead of `a` (NaN before the start)."""
    out = np.full_like(a, np.nan)
    if lead < a.shape[1]:
        out[:, lead:] = a[:, : a.shape[1] - lead]
    return out


def _rolling_mean(a: np.ndarray, w: int) -> np.ndarray:
    """Mean over the observed values of the last `w` columns ending at each column (NaN if none)."""
    val = np.nan_to_num(a)
    cnt = (~np.isnan(a)).astype(np.float64)
    cs = np.cumsum(val, axis=1)
    cc = np.cumsum(cnt, axis=1)
    cs_w, cc_w = cs.copy(), cc.copy()
    cs_w[:, w:] -= cs[:, :-w]
    cc_w[:, w:] -= cc[:, :-w]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cc_w > 0, cs_w / np.maximum(cc_w, 1), np.nan)


def _expanding_mean(a: np.ndarray) -> np.ndarray:
    cs = np.cumsum(np.nan_to_num(a), axis=1)
    cc = np.cumsum(~np.isnan(a), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(cc > 0, cs / np.maximum(cc, 1), np.nan)


def _group_mean(a: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Per period, the mean of `a` over the series of the same group (observed values only)."""
    n_groups = int(groups.max()) + 1
    val = np.zeros((n_groups, a.shape[1]))
    cnt = np.zeros((n_groups, a.shape[1]))
    np.add.at(val, groups, np.nan_to_num(a))
    np.add.at(cnt, groups, ~np.isnan(a))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(cnt > 0, val / np.maximum(cnt, 1), np.nan)
    return mean[groups]


def competitor_groups(panel: Panel) -> np.ndarray:
    """Series that compete for the same shoppers: equal on every id column but the last (e.g. one store)."""
    if len(panel.id_cols) < 2:
        return np.zeros(panel.n_series, dtype=np.int64)
    keys = [k[:-1] for k in panel.keys]
    uniq = {k: i for i, k in enumerate(sorted(set(keys)))}
    return np.array([uniq[k] for k in keys], dtype=np.int64)


class FeatureBuilder:
    """Precomputed origin statistics of one panel; `matrix(lead)` gives every feature for that lead."""

    def __init__(self, panel: Panel, max_categories: int = 2000) -> None:
        self.panel = panel
        ly = np.log1p(panel.y)
        self.ly = ly
        self.level = _rolling_mean(ly, 8)
        filled = ffill(ly)
        self.level = np.where(np.isnan(self.level), filled, self.level)
        # statistics at the origin column (shifted by the lead in matrix())
        origin: dict[str, np.ndarray] = {f"lag{k}": _shift(ly, k) - self.level for k in LAGS}
        origin["last"] = filled - self.level
        for w in WINDOWS:
            origin[f"mean{w}"] = _rolling_mean(ly, w) - self.level
        origin["mean_all"] = _expanding_mean(ly) - self.level
        origin["std8"] = np.sqrt(np.maximum(_rolling_mean(ly**2, 8) - _rolling_mean(ly, 8) ** 2, 0))
        origin["level"] = self.level
        obs = (~np.isnan(ly)).astype(np.float64)
        origin["seen"] = np.cumsum(obs, axis=1)
        origin["share13"] = _rolling_mean(np.where(np.isnan(ly), 0.0, 1.0), 13)
        groups = competitor_groups(panel)
        self.groups = groups
        origin["group_level"] = _group_mean(self.level, groups)
        self.origin = {k: v.astype(np.float32) for k, v in origin.items()}
        # covariates at the target period and their change since the origin
        target: dict[str, np.ndarray] = {}
        self.origin_cov: dict[str, np.ndarray] = {}
        for name, x in panel.x.items():
            xf = ffill(x)
            target[f"x_{name}"] = x
            if name.lower().startswith(PRICE_LIKE):
                with np.errstate(invalid="ignore", divide="ignore"):
                    target[f"rel_{name}"] = np.log(x / _group_mean(x, groups))
                    self.origin_cov[f"chg_{name}"] = xf
                    self.origin_cov[f"ref_{name}"] = _rolling_mean(xf, 13)
            else:
                target[f"grp_{name}"] = _group_mean(x, groups) * np.bincount(groups)[groups][:, None] - np.nan_to_num(x)
        self.target = {k: v.astype(np.float32) for k, v in target.items()}
        poy = panel.period_of_year if panel.period_of_year is not None else np.arange(panel.n_periods) % panel.season
        self.poy = np.broadcast_to(poy[None, :], panel.y.shape).astype(np.float64)
        self.seasonal = _shift(ly, panel.season)  # y a year before the target
        self.categorical: dict[str, np.ndarray] = {}
        for col in panel.id_cols:
            codes = panel.group_codes(col)
            if codes.max() + 1 <= max_categories:
                self.categorical[f"id_{col}"] = np.broadcast_to(codes[:, None], panel.y.shape).astype(np.float64)

    def names(self) -> list[str]:
        """Feature names in column order (lead included as a feature)."""
        return ["lead", *self.origin, *self.origin_cov, *self.target, "season_lag", "period_of_year", *self.categorical]

    def matrix(self, lead: int, cols: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """Features for targets at lead `lead`: float32 array (n_rows, n_cols, n_features), gathered, not copied whole."""
        cols = np.arange(self.panel.n_periods) if cols is None else np.asarray(cols)

        def at(a: np.ndarray, shift: int) -> np.ndarray:
            src = cols - shift
            sub = a if rows is None else a[rows]
            out = np.full((sub.shape[0], len(cols)), np.nan, dtype=np.float32)
            ok = src >= 0
            out[:, ok] = sub[:, src[ok]]
            return out

        level_t = at(self.level, lead)
        parts = [np.full(level_t.shape, float(lead), dtype=np.float32)]
        parts += [at(a, lead) for a in self.origin.values()]
        for name, a in self.origin_cov.items():
            x_t = at(self.panel.x[name.split("_", 1)[1]], 0)
            with np.errstate(invalid="ignore", divide="ignore"):
                parts.append(np.log(x_t / at(a, lead)))
        parts += [at(a, 0) for a in self.target.values()]
        parts.append((at(self.seasonal, 0) - level_t) if lead <= self.panel.season else np.full(level_t.shape, np.nan, dtype=np.float32))
        parts.append(at(self.poy, 0))
        parts += [at(a, 0) for a in self.categorical.values()]
        return np.stack(parts, axis=-1)

    def base(self, lead: int, cols: np.ndarray | None = None, rows: np.ndarray | None = None) -> np.ndarray:
        """The level (log scale) each prediction is relative to, at the origin of each target."""
        cols = np.arange(self.panel.n_periods) if cols is None else np.asarray(cols)
        src = cols - lead
        sub = self.level if rows is None else self.level[rows]
        out = np.full((sub.shape[0], len(cols)), np.nan)
        ok = src >= 0
        out[:, ok] = sub[:, src[ok]]
        return out
