"""The provider price table's shape (contract §19): USD per provider model and unit, checked where
it is given (`PROVIDER_PRICES`, the live setting `provider_prices`); services/credits/metering.py
prices calls with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PRICE_FIELDS = ("input_per_1m", "output_per_1m", "per_image", "per_video_second")
MAX_PRICE = 1_000_000  # USD per unit (per 1M tokens, image or video second): a typo's ceiling
MAX_MODEL_NAME = 128


def check_prices(value: Any) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]]]:
    """A price table as given (JSON), and the errors naming each bad entry (`loc` below the table)."""
    table: dict[str, dict[str, float]] = {}
    errors: list[dict[str, Any]] = []
    if not isinstance(value, Mapping):
        return table, [{"loc": [], "msg": "an object of model → prices"}]
    for model, prices in value.items():
        if not isinstance(model, str) or not 0 < len(model) <= MAX_MODEL_NAME:
            errors.append({"loc": [str(model)[:MAX_MODEL_NAME]],
                           "msg": f"a model name of 1..{MAX_MODEL_NAME} characters"})
            continue
        if prices is None:
            table[model] = {}
            continue
        if not isinstance(prices, Mapping):
            errors.append({"loc": [model], "msg": f"an object with some of {', '.join(PRICE_FIELDS)}"})
            continue
        entry: dict[str, float] = {}
        for name, price in prices.items():
            if name not in PRICE_FIELDS:
                errors.append({"loc": [model, str(name)], "msg": f"not one of {', '.join(PRICE_FIELDS)}"})
            elif isinstance(price, bool) or not isinstance(price, int | float) or not 0 <= price <= MAX_PRICE:
                errors.append({"loc": [model, name], "msg": f"a number of USD 0..{MAX_PRICE}"})
            else:
                entry[name] = float(price)
        table[model] = entry
    return table, errors
