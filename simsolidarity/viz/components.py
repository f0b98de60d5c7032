"""The cards of the browser app: matplotlib figures drawn from the model's arrays and its datacollector.

Each card has two layers:

- a :class:`Card` that builds its :class:`matplotlib.figure.Figure` once per model (with the
  object-oriented API, never pyplot) and updates it in place at each step, reading only the
  model's arrays, its datacollector, and the functions of :mod:`simsolidarity.model.outcomes` (no
  metric is computed a second time here); it can be drawn and tested without a browser;
- a ``@solara.component`` that reads Mesa's ``update_counter`` (so that it is drawn again after
  each step), keeps one card per model, and shows the card as a PNG image.

A step's redraw stays quick because only what changes is drawn again: a card's frame (axes,
ticks, labels, colour bar, legend of markers) is drawn once and kept, and at each step only its
dynamic artists (markers, bars, lines, titles, legends with values) are drawn over it. Axis limits
move in coarse steps (:func:`nice_ceiling`), so the frame is drawn again only now and then.
"""

from __future__ import annotations

import io
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

import numpy as np
import solara
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from mesa.visualization.utils import update_counter
from PIL import Image

from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.outcomes import OUTCOMES

#: Diverging colour scale of opinions: -1 blue, 0 light grey, +1 red.
OPINION_CMAP = colormaps["coolwarm"]
OPINION_NORM = Normalize(vmin=-1.0, vmax=1.0)
#: Size (inches) and resolution (dots per inch) of a card's image: about 500 x 350 pixels, the size
#: of a SolaraViz card.
FIGSIZE = (5.6, 3.9)
DPI = 90
#: Marker area (points^2) of the least and of the most isolated person on the map.
MARKER_AREA = (30.0, 5.0)
#: Colour of a virtual group without members.
EMPTY_GROUP = (0.8, 0.8, 0.8, 1.0)
#: Line plots of at most this many points also mark each point (so that a single point shows).
SHORT_SERIES = 30
#: Parameters named in the line above the map, besides the recommender and the population.
SUMMARY_PARAMETERS = ("online_share", "online_depth", "isolation_mean", "confidence")


def current(model: SolidarityModel, name: str) -> float:
    """The outcome ``name`` at the current step: the datacollector's last value, or its reporter if not collected."""
    recorded = model.datacollector.model_vars.get(name)
    if recorded:
        return float(recorded[-1])
    return float(OUTCOMES[name].report(model))


def drawn_people(model: SolidarityModel) -> np.ndarray:
    """Row indices of the people the map draws: the model's fixed sample if it has one, else everybody."""
    sample = getattr(model, "sample", None)
    return np.arange(model.n_people) if sample is None else sample


def model_summary(model: SolidarityModel) -> str:
    """One line naming the model on screen: scenario, recommender, population, main parameters, seed."""
    p = model.parameters
    parts = [
        getattr(model, "scenario_name", "") or "model",
        f"recommender {p['recommender']}",
        f"{model.n_people:,} people on {p['width']}x{p['height']}",
        *(f"{name} {p[name]:g}" for name in SUMMARY_PARAMETERS),
        f"seed {getattr(model, 'seed', None)}",
    ]
    return " · ".join(parts)


def nice_ceiling(value: float) -> float:
    """The least of 1, 1.5, 2, 3, 4, 5, 6, 8 times a power of ten that is >= ``value`` (1 for ``value <= 1``).

    Axis limits set this way change only now and then as a run goes on, so a card's frame is seldom drawn again.
    """
    if value <= 1:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 1.5, 2, 3, 4, 5, 6, 8, 10) if m * power >= value)


def new_figure(size: tuple[float, float] = FIGSIZE) -> Figure:
    """An empty figure of a card's size (inches)."""
    return Figure(figsize=size, dpi=DPI)


def _chart_axes(figure: Figure, top: float = 0.9) -> Axes:
    """The one axes of a chart card, with room for the tick labels and the axis labels."""
    ax = figure.subplots()
    figure.subplots_adjust(left=0.12, right=0.97, bottom=0.14, top=top)
    ax.set_axisbelow(True)  # grid lines under the data, as they are when the data are drawn over the frame
    return ax


def _title(ax: Axes, text: str) -> None:
    """Set the axes' title at a fixed height: it is drawn over the frame, outside the axes' own layout."""
    ax.set_title(text, fontsize="medium", y=1.0, pad=6)


class Card(ABC):
    """A figure of one model, built once and updated in place at each step.

    Subclasses create their artists in :meth:`build`, list those that change from step to step in
    :attr:`dynamic`, and set them from the model in :meth:`update`. :meth:`render` draws the frame
    (everything else) only when an axis' limits have changed, and the dynamic artists every time.

    Attributes:
        figure: the card's figure.
        dynamic: the artists drawn at every step, over the frame.
        size: the figure's size in inches.
    """

    size: tuple[float, float] = FIGSIZE

    def __init__(self, model: SolidarityModel) -> None:
        """Build the card's figure for ``model`` and set it to the model's current state."""
        self.figure = new_figure(self.size)
        self.canvas = FigureCanvasAgg(self.figure)
        self.dynamic: list[Artist] = []
        self._frame: object = None
        self._frame_key: Hashable = None
        self.build(model)
        self.update(model)

    @abstractmethod
    def build(self, model: SolidarityModel) -> None:
        """Create the axes and artists (once per model)."""

    @abstractmethod
    def update(self, model: SolidarityModel) -> None:
        """Set the artists from the model's current state."""

    def frame_key(self) -> Hashable:
        """What the frame depends on: the limits of every axes."""
        return tuple((tuple(ax.get_xlim()), tuple(ax.get_ylim())) for ax in self.figure.axes)

    def render(self) -> np.ndarray:
        """The figure as an RGBA array (height, width, 4): the kept frame, with the dynamic artists drawn over it."""
        key = self.frame_key()
        if self._frame is None or key != self._frame_key:
            for artist in self.dynamic:
                artist.set_visible(False)
            self.canvas.draw()
            for artist in self.dynamic:
                artist.set_visible(True)
            self._frame, self._frame_key = self.canvas.copy_from_bbox(self.figure.bbox), key
        else:
            self.canvas.restore_region(self._frame)
        for artist in self.dynamic:
            self.figure.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())

    def png(self) -> bytes:
        """The figure as PNG bytes (see :meth:`render`)."""
        buffer = io.BytesIO()
        Image.fromarray(self.render()[..., :3]).save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


# --- the map of people --------------------------------------------------------------------------


class PeopleMapCard(Card):
    """People on the grid: colour = opinion, size = isolation (smaller = more isolated), triangle = active online.

    A population larger than the model's drawing limit is shown by its fixed sample of people.
    """

    size = (FIGSIZE[0], FIGSIZE[1] - 0.35)  # leaves room for the line of text above the map

    def build(self, model: SolidarityModel) -> None:
        """Two scatter layers (circles offline, triangles online), a colour bar and a legend of markers."""
        figure = self.figure
        self.people = drawn_people(model)
        self.xy = model.position[self.people].astype(float)
        low, high = MARKER_AREA
        self.area = low + (high - low) * model.isolation[self.people]
        self.ax = ax = figure.add_axes((0.1, 0.12, 0.62, 0.8))
        self.layers = {
            marker: ax.scatter(np.empty(0), np.empty(0), c=np.empty(0), marker=marker, cmap=OPINION_CMAP,
                               norm=OPINION_NORM, edgecolors="0.3", linewidths=0.3)
            for marker in ("o", "^")
        }
        width, height = model.parameters["width"], model.parameters["height"]
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(-0.5, height - 0.5)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        figure.colorbar(ScalarMappable(OPINION_NORM, OPINION_CMAP), cax=figure.add_axes((0.76, 0.2, 0.025, 0.64)),
                        label="opinion")
        handles = [
            Line2D([], [], marker="o", linestyle="", color="0.55", markersize=6, label="offline this step"),
            Line2D([], [], marker="^", linestyle="", color="0.55", markersize=6, label="active online"),
            Line2D([], [], marker="o", linestyle="", color="0.55", markersize=2.5, label="small = isolated"),
        ]
        figure.legend(handles=handles, loc="lower center", ncol=3, fontsize="small", frameon=False)
        shown = self.people.size
        self.what = f"{shown:,} of {model.n_people:,} people (fixed sample)" if shown < model.n_people else "people"
        self.dynamic = [*self.layers.values(), ax.title]

    def update(self, model: SolidarityModel) -> None:
        """Markers follow who is active online this step; colours follow opinions."""
        online = model.active_online[self.people]
        opinion = model.opinion[self.people]
        for marker, who in (("o", ~online), ("^", online)):
            layer = self.layers[marker]
            layer.set_offsets(self.xy[who])
            layer.set_array(opinion[who])
            layer.set_sizes(self.area[who])
        _title(self.ax, f"{self.what} at step {model.steps}")


# --- virtual groups -----------------------------------------------------------------------------


class VirtualGroupsCard(Card):
    """One bar per virtual group: its size, coloured by its members' mean opinion (grey when empty)."""

    def build(self, model: SolidarityModel) -> None:
        """A bar per group, in group order."""
        self.ax = ax = _chart_axes(self.figure)
        count = model.n_virtual_groups
        self.bars = ax.bar(np.arange(count), np.zeros(count), width=0.85)
        ax.set_xlabel("virtual group")
        ax.set_ylabel("members")
        ax.set_xlim(-0.6, max(count, 1) - 0.4)
        ax.grid(axis="y", alpha=0.3)
        self.dynamic = [*self.bars, ax.title]

    def update(self, model: SolidarityModel) -> None:
        """Heights from ``model.group_size``, colours from ``model.group_opinion``."""
        size, opinion = model.group_size, model.group_opinion
        colours = OPINION_CMAP(OPINION_NORM(np.nan_to_num(opinion)))
        colours[np.isnan(opinion)] = EMPTY_GROUP
        for bar, height, colour in zip(self.bars, size, colours, strict=True):
            bar.set_height(height)
            bar.set_facecolor(colour)
        self.ax.set_ylim(0, nice_ceiling(1.05 * size.max(initial=0)))
        active = int(current(model, "active_virtual_groups"))
        _title(self.ax, f"virtual groups: {active} active of {size.size} (colour = mean opinion)")


# --- outcomes over time -------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """A line plot of recorded outcomes against the step.

    Attributes:
        title: the card's title.
        lines: outcome name -> label, one line each.
        ylabel: the vertical axis' label.
        ylim: the range always shown (widened, in tenths, if a value falls outside it).
    """

    title: str
    lines: Mapping[str, str]
    ylabel: str
    ylim: tuple[float, float] = (0.0, 1.0)


#: The line plots of the app, in the order of their cards.
TRENDS: tuple[Trend, ...] = (
    Trend("polarization", {"esteban_ray": "Esteban-Ray", "opinion_variance": "opinion variance"}, "index"),
    Trend("echo chambers", {"echo_chamber_index": "echo-chamber index"}, "correlation", (-0.2, 1.0)),
    Trend(
        "support for people in need",
        {"support_online": "through online ties", "support_offline": "through face-to-face ties"},
        "support (depth-weighted)",
    ),
    Trend("belonging", {"belonging": "everyone", "belonging_isolated": "most isolated quartile"}, "belonging"),
)


class TrendCard(Card):
    """The outcomes of a :class:`Trend`, read from the datacollector, one line each with its current value."""

    def __init__(self, model: SolidarityModel, trend: Trend) -> None:
        """Build the line plot of ``trend`` for ``model``."""
        self.trend = trend
        super().__init__(model)

    def build(self, model: SolidarityModel) -> None:
        """One line per outcome, the legend (with current values) above the axes."""
        self.ax = ax = _chart_axes(self.figure, top=0.83)
        self.lines = {name: ax.plot([], [], linewidth=1.5, markersize=3, label=label)[0]
                      for name, label in self.trend.lines.items()}
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(self.trend.ylabel)
        ax.grid(alpha=0.3)
        self.figure.suptitle(self.trend.title, fontsize="medium", y=0.99)
        self.legend = ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, fontsize="small",
                                frameon=False)
        self.dynamic = [*self.lines.values(), self.legend]

    def update(self, model: SolidarityModel) -> None:
        """Lines from ``model.datacollector.model_vars``; the axes grow to fit the values."""
        records = model.datacollector.model_vars
        # With Mesa's "Use Threads", a step may be collecting while this is drawn: use complete rows only.
        rows = min(len(records["step"]), *(len(records[name]) for name in self.trend.lines))
        steps = np.asarray(records["step"][:rows], dtype=float)
        low, high = self.trend.ylim
        for (name, label), text in zip(self.trend.lines.items(), self.legend.get_texts(), strict=True):
            values = np.asarray(records[name][:rows], dtype=float)
            self.lines[name].set_data(steps, values)
            self.lines[name].set_marker("o" if steps.size <= SHORT_SERIES else "")
            text.set_text(f"{label}: {values[-1]:.2f}")
            finite = values[np.isfinite(values)]
            if finite.size:
                low = min(low, math.floor(finite.min() * 10) / 10)
                high = max(high, math.ceil(finite.max() * 10) / 10)
        self.ax.set_xlim(0, nice_ceiling(max(10.0, float(steps[-1]))))
        self.ax.set_ylim(low - 0.02, high + 0.02)


# --- opinions -----------------------------------------------------------------------------------


class OpinionHistogramCard(Card):
    """Histogram of everybody's opinion on [-1, 1], each bar coloured by its opinion."""

    BINS = 40

    def build(self, model: SolidarityModel) -> None:
        """One bar per opinion bin, coloured by the bin's centre."""
        self.ax = ax = _chart_axes(self.figure)
        self.edges = np.linspace(-1.0, 1.0, self.BINS + 1)
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        self.bars = ax.bar(centres, np.zeros(self.BINS), width=np.diff(self.edges),
                           color=OPINION_CMAP(OPINION_NORM(centres)), edgecolor="0.4", linewidth=0.3)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("opinion")
        ax.set_ylabel("people")
        ax.grid(axis="y", alpha=0.3)
        self.dynamic = [*self.bars, ax.title]

    def update(self, model: SolidarityModel) -> None:
        """Counts of ``model.opinion``; the title gives the outcome ``bimodality`` (above 5/9: two camps)."""
        counts = np.histogram(np.clip(model.opinion, -1.0, 1.0), bins=self.edges)[0]
        for bar, count in zip(self.bars, counts, strict=True):
            bar.set_height(count)
        self.ax.set_ylim(0, nice_ceiling(1.05 * counts.max()))
        _title(self.ax, f"opinions at step {model.steps} (bimodality {current(model, 'bimodality'):.2f})")


# --- Solara components ----------------------------------------------------------------------------


def use_card(model: SolidarityModel, make: Callable[[SolidarityModel], Card]) -> bytes:
    """This component's card for ``model`` (a new one after Reset), as a PNG of the model's current state.

    Reads Mesa's ``update_counter``, so the calling component is drawn again after every step.
    """
    version = update_counter.get()
    card = solara.use_memo(lambda: make(model), [model])

    def draw() -> bytes:
        card.update(model)
        return card.png()

    return solara.use_memo(draw, [card, version])


@solara.component
def PeopleMap(model: SolidarityModel):
    """The card with the grid map of people, under a line naming the model (see :func:`model_summary`)."""
    image = use_card(model, PeopleMapCard)
    with solara.Column(gap="0px") as column:
        solara.Text(model_summary(model), classes=["simsolidarity-summary"], style={"font-size": "0.8em"})
        solara.Image(image)
    return column


@solara.component
def VirtualGroups(model: SolidarityModel):
    """The card with the bar chart of virtual groups."""
    image = use_card(model, VirtualGroupsCard)
    return solara.Image(image)


@solara.component
def OpinionHistogram(model: SolidarityModel):
    """The card with the histogram of opinions."""
    image = use_card(model, OpinionHistogramCard)
    return solara.Image(image)


def make_trend_component(trend: Trend) -> Callable[[SolidarityModel], object]:
    """A card component drawing the line plot of ``trend`` (one per entry of :data:`TRENDS`)."""

    @solara.component
    def TrendPlot(model: SolidarityModel):
        image = use_card(model, lambda m: TrendCard(m, trend))
        return solara.Image(image)

    return TrendPlot


def app_components() -> list[Callable[[SolidarityModel], object]]:
    """Every card of the app, in page order: map, opinions, groups, then the line plots."""
    return [PeopleMap, OpinionHistogram, VirtualGroups, *(make_trend_component(t) for t in TRENDS)]
