"""What a person sees on the served app, read from a Playwright page, and what they should see.

:func:`page_problems` lists everything on the page that differs from what the model at that step
should show: a headline card out of view at 1400 x 900, a picture of the wrong size or blank, a
picture that is not the card's own drawing of the model, a value in the page's text that is not
``model.outcomes()``. The browser tests call it on the app as served, where it must find nothing,
and on an app with three cards broken on purpose (:mod:`tests.viz_mutant_server`), where it must name
each of them.
"""

from __future__ import annotations

import base64
import io
import re

import numpy as np
from PIL import Image

from simsolidarity.running.scenario import load_scenario
from simsolidarity.viz.components import DPI, FIGSIZE, all_cards

#: The cards that must be in view without scrolling at 1400 x 900: the four questions, the map, the network.
IN_VIEW = ("polarization", "echo chambers", "support for people in need", "belonging", "map of people",
           "network of virtual groups")
#: Every card of the page, by title.
CARDS = (*IN_VIEW, "opinions", "virtual groups")
#: A card's picture, in pixels (width, height), as :mod:`simsolidarity.viz.components` draws it.
PICTURE_SIZE = (round(FIGSIZE[0] * DPI), round(FIGSIZE[1] * DPI))
#: Least shown width of a picture, in pixels, at 1400 x 900 (three cards to a row).
LEAST_SHOWN_WIDTH = 250
#: Least standard deviation of a picture's grey levels (0-255): a blank or one-colour picture has about 0.
LEAST_PIXEL_SPREAD = 10.0
#: Largest mean difference (0-255) between a picture on the page and the card's own drawing of that state:
#: the same code draws both, so they agree to the last pixel unless something on the way broke.
LARGEST_PICTURE_DIFFERENCE = 1.0

#: Each card on the page: title, box, and its picture's natural size, shown box and bytes (as base64).
READ_CARDS = """async () => {
  const cards = [];
  for (const card of document.querySelectorAll('.simsolidarity-card')) {
    const title = card.querySelector('.simsolidarity-card-title');
    const img = card.querySelector('img');
    const box = card.getBoundingClientRect();
    const entry = {title: title ? title.textContent.trim() : '', box: [box.left, box.top, box.right, box.bottom]};
    if (img) {
      const shown = img.getBoundingClientRect();
      const data = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
      let text = '';
      for (let i = 0; i < data.length; i += 8192) text += String.fromCharCode.apply(null, data.subarray(i, i + 8192));
      Object.assign(entry, {natural: [img.naturalWidth, img.naturalHeight], shown: [shown.width, shown.height],
                            png: btoa(text)});
    }
    cards.push(entry);
  }
  return cards;
}"""
#: The values the page shows as text: ``[[outcome, text], ...]``.
READ_VALUES = """() => Array.from(document.querySelectorAll('[data-outcome]'))
  .map(e => [e.getAttribute('data-outcome'), e.textContent])"""


class Expected:
    """The model the page should show, stepped as the page steps it, with the cards drawn at every step."""

    def __init__(self, scenario: str = "baseline") -> None:
        from simsolidarity.viz.app import initial_model  # imports Solara: only where a page is checked

        self.model = initial_model(load_scenario(scenario))
        self.cards = {card.title: card for card in all_cards(self.model)}
        assert sorted(self.cards) == sorted(CARDS), sorted(self.cards)
        for card in self.cards.values():
            card.png()

    def step(self) -> None:
        self.model.step()
        for card in self.cards.values():
            card.update(self.model)
            card.png()  # the page draws each step over its kept frame: so does this


def _shown_number(text: str) -> float:
    match = re.search(r":\s*(-?\d+(?:\.\d+)?)\s*$", text)
    return float(match.group(1)) if match else float("nan")


def page_problems(page, expected: Expected) -> list[str]:
    """Everything on ``page`` that differs from what ``expected.model`` at its step should show (empty: none)."""
    problems = []
    width, height = page.viewport_size["width"], page.viewport_size["height"]
    cards = {card["title"]: card for card in page.evaluate(READ_CARDS)}
    if sorted(cards) != sorted(CARDS):
        problems.append(f"the cards are {sorted(cards)}, expected {sorted(CARDS)}")
    for title, card in cards.items():
        left, top, right, bottom = card["box"]
        if title in IN_VIEW and not (left >= 0 and top >= 0 and right <= width and bottom <= height):
            problems.append(f"{title}: not in view at {width}x{height} (box {[round(v) for v in card['box']]})")
        if "png" not in card:
            problems.append(f"{title}: no picture")
            continue
        if tuple(card["natural"]) != PICTURE_SIZE:
            problems.append(f"{title}: picture of {card['natural']} pixels, expected {list(PICTURE_SIZE)}")
        if card["shown"][0] < LEAST_SHOWN_WIDTH:
            problems.append(f"{title}: picture shown {round(card['shown'][0])} pixels wide")
        shown = np.asarray(Image.open(io.BytesIO(base64.b64decode(card["png"]))).convert("RGB"), dtype=float)
        if title in expected.cards:
            own = np.asarray(Image.open(io.BytesIO(expected.cards[title].png())).convert("RGB"), dtype=float)
            # Blank is wrong only where the model has something to draw (no group has members at step 0).
            if shown.mean(axis=2).std() < LEAST_PIXEL_SPREAD <= own.mean(axis=2).std():
                problems.append(f"{title}: the picture is blank")
            if own.shape != shown.shape or np.abs(own - shown).mean() > LARGEST_PICTURE_DIFFERENCE:
                problems.append(f"{title}: the picture is not the card's drawing of step {expected.model.steps}")
    outcomes = expected.model.outcomes()
    values = page.evaluate(READ_VALUES)
    if not values:
        problems.append("no value is shown as page text")
    for name, text in values:
        shown_value, wanted = _shown_number(text), outcomes[name]
        decimals = len(text.rsplit(".", 1)[1]) if "." in text.rsplit(":", 1)[-1] else 0
        if np.isnan(wanted) != np.isnan(shown_value) or abs(shown_value - round(wanted, decimals)) > 10**-decimals / 2:
            problems.append(f"value of {name}: the page shows {text!r}, the model {wanted!r}")
    return problems
