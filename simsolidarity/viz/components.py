"""The cards of the browser app: matplotlib figures drawn from the model's arrays and its datacollector.

Each card has two layers:

- a :class:`Card` that builds its :class:`matplotlib.figure.Figure` once per model (with the
  object-oriented API, never pyplot) and updates it in place at each step, reading only the
  model's arrays, its datacollector, and the functions of :mod:`simsolidarity.model.outcomes` (no
  metric is computed a second time here); it can be drawn and tested without a browser;
- a ``@solara.component`` (:func:`CardView`) that is drawn again after each step (the page reads Mesa's
  ``update_counter`` and hands it down), keeps one card per model and theme, and shows its title, the current value of
  each measure it draws as page text, the picture, each measure's one-line meaning from the outcome
  registry, and a button that saves the picture.

A step's redraw stays quick because only what changes is drawn again: a card's frame (axes,
ticks, labels, colour bar, legend) is drawn once and kept, and at each step only its dynamic artists
(the map's raster, bars, lines, nodes, titles) are drawn over it. Axis limits move in coarse steps
(:func:`nice_ceiling`), so the frame is drawn again only now and then. The map is one raster of the
grid's cells, whatever the population, not a marker per person.
"""

from __future__ import annotations

import io
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import matplotlib.style
import numpy as np
import solara
from matplotlib import colormaps
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import BoundaryNorm, Colormap, ListedColormap, Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from PIL import Image

from simsolidarity.model.model import SolidarityModel
from simsolidarity.model.outcomes import OUTCOMES

#: Diverging colour scale of opinions: -1 blue, 0 light grey, +1 red.
OPINION_CMAP = colormaps["coolwarm"]
OPINION_NORM = Normalize(vmin=-1.0, vmax=1.0)
#: Size (inches) and resolution (dots per inch) of a card's picture: 400 x 260 pixels, shown at the card's width.
FIGSIZE = (4.0, 2.6)
DPI = 100
#: Colour of a virtual group without members.
EMPTY_GROUP = (0.8, 0.8, 0.8, 1.0)
#: Line plots of at most this many points also mark each point (so that a single point shows).
SHORT_SERIES = 30
#: Parameters named in the line that names the model, besides the recommender and the population.
SUMMARY_PARAMETERS = ("online_share", "online_depth", "isolation_mean", "confidence")
#: The page's dark theme, for figures drawn to match it.
DARK_BACKGROUND = "#1e1e1e"


def current(model: SolidarityModel, name: str) -> float:
    """The outcome ``name`` at the current step: the datacollector's last value, or its reporter if not collected."""
    recorded = model.datacollector.model_vars.get(name)
    if recorded:
        return float(recorded[-1])
    return float(OUTCOMES[name].report(model))


def shown_value(value: float) -> str:
    """A measure's value as the page shows it: a whole number as it is, any other with three decimals, or why
    there is none."""
    if not math.isfinite(value):
        return "not defined at this step (nothing to measure)"
    return f"{value:.0f}" if value.is_integer() else f"{value:.3f}"


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


def compact_number(value: float, _position: int | None = None) -> str:
    """A tick label of at most four characters for counts of any size: 800, 3.2k, 15k, 1.2M."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.2g}{suffix}" if abs(value) < 10 * size else f"{value / size:.0f}{suffix}"
    return f"{value:g}"


def _chart_axes(figure: Figure, top: float = 0.9, counts: bool = False) -> Axes:
    """The one axes of a chart card, with room for the tick labels and the axis labels.

    At most five ticks a side; ``counts`` labels the vertical axis in compact numbers (:func:`compact_number`),
    so that no label runs into its axis' title at 100,000 people.
    """
    ax = figure.subplots()
    figure.subplots_adjust(left=0.17, right=0.97, bottom=0.17, top=top)
    ax.set_axisbelow(True)  # grid lines under the data, as they are when the data are drawn over the frame
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))
    ax.yaxis.set_major_locator(MaxNLocator(5))
    if counts:
        ax.yaxis.set_major_formatter(FuncFormatter(compact_number))
    return ax


class Bars:
    """Bars from a common baseline as one artist (a :class:`~matplotlib.collections.PolyCollection`): drawn in
    one call at each step, where ``ax.bar`` draws each bar as an artist of its own.

    Args:
        ax: the axes drawn in.
        left, right: (bars,) each bar's left and right edge.
        **style: passed to the collection (``facecolors``, ``edgecolors``, ``linewidths``).
    """

    def __init__(self, ax: Axes, left: np.ndarray, right: np.ndarray, **style) -> None:
        self.left, self.right = np.asarray(left, dtype=float), np.asarray(right, dtype=float)
        self.collection = PolyCollection(self._outlines(np.zeros(self.left.size)), **style)
        ax.add_collection(self.collection)

    def _outlines(self, heights: np.ndarray) -> np.ndarray:
        bottom = np.zeros_like(heights, dtype=float)
        return np.stack([np.column_stack([self.left, bottom]), np.column_stack([self.left, heights]),
                         np.column_stack([self.right, heights]), np.column_stack([self.right, bottom])], axis=1)

    def set_heights(self, heights: np.ndarray) -> None:
        """Set each bar's height."""
        self.collection.set_verts(self._outlines(np.asarray(heights, dtype=float)))


def _title(ax: Axes, text: str) -> None:
    """Set the axes' title at a fixed height: it is drawn over the frame, outside the axes' own layout."""
    ax.set_title(text, fontsize="medium", y=1.0, pad=6)


class Card(ABC):
    """A figure of one model, built once and updated in place at each step.

    Subclasses create their artists in :meth:`build`, list those that change from step to step in
    :attr:`dynamic`, and set them from the model in :meth:`update`. :meth:`render` draws the frame
    (everything else) only when an axis' limits have changed, and the dynamic artists every time.

    Args:
        model: the model drawn.
        dark: draw light on dark, for the page's dark theme.

    Attributes:
        figure: the card's figure.
        dynamic: the artists drawn at every step, over the frame.
        size: the figure's size in inches.
        title: the card's title on the page.
        measures: the outcomes the card draws, whose values and meanings the page shows beside it.
    """

    size: tuple[float, float] = FIGSIZE
    title: str = ""
    measures: tuple[str, ...] = ()

    def __init__(self, model: SolidarityModel, dark: bool = False) -> None:
        """Build the card's figure for ``model`` and set it to the model's current state."""
        self.dark = dark
        with matplotlib.style.context("dark_background" if dark else "default"):
            self.figure = Figure(figsize=self.size, dpi=DPI, facecolor=DARK_BACKGROUND if dark else "white")
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
            visible = [artist.get_visible() for artist in self.dynamic]
            for artist in self.dynamic:
                artist.set_visible(False)
            self.canvas.draw()
            for artist, was in zip(self.dynamic, visible, strict=True):
                artist.set_visible(was)
            self._frame, self._frame_key = self.canvas.copy_from_bbox(self.figure.bbox), key
        else:
            self.canvas.restore_region(self._frame)
        for artist in self.dynamic:
            self.figure.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())

    def png(self) -> bytes:
        """The figure as PNG bytes (see :meth:`render`)."""
        buffer = io.BytesIO()
        # PIL drops the alpha channel from the whole buffer twice as fast as it takes a strided view of RGB.
        Image.fromarray(self.render()).convert("RGB").save(buffer, format="png", compress_level=1)
        return buffer.getvalue()


# --- the map of people --------------------------------------------------------------------------


@dataclass(frozen=True)
class MapColour:
    """What the map's colour shows: a value per person, its colour scale and the colour bar's label.

    Attributes:
        read: the value of each person, (people,).
        cmap, norm: the colour scale.
        label: the colour bar's label.
        ticks: the colour bar's ticks, and their labels for a scale of categories.
    """

    read: Callable[[SolidarityModel], np.ndarray]
    cmap: Colormap
    norm: Normalize
    label: str
    ticks: tuple[float, ...] | None = None
    tick_labels: tuple[str, ...] | None = None


def _online_state(model: SolidarityModel) -> np.ndarray:
    """0 without online access, 1 with access but not active this step, 2 active online this step."""
    return model.online.astype(float) + model.active_online


#: The map's colour choices, by the name the page offers.
MAP_COLOURS: dict[str, MapColour] = {
    "opinion": MapColour(lambda m: m.opinion, OPINION_CMAP, OPINION_NORM, "opinion"),
    "belonging": MapColour(lambda m: m.belonging, colormaps["viridis"], Normalize(0.0, 1.0), "belonging"),
    "isolation": MapColour(lambda m: m.isolation, colormaps["magma_r"], Normalize(0.0, 1.0), "isolation"),
    "online": MapColour(_online_state, ListedColormap(["#9e9e9e", "#90caf9", "#1565c0"]),
                        BoundaryNorm([-0.5, 0.5, 1.5, 2.5], 3), "online",
                        (0.0, 1.0, 2.0), ("no access", "not active", "active now")),
}


class PeopleMapCard(Card):
    """Every person on their grid cell, coloured by what :data:`MAP_COLOURS` names (empty cells blank).

    One raster of the grid's cells, so a map of 100,000 people is drawn whole, as quickly as one of 2,000.

    Args:
        model: the model drawn.
        colour: a name of :data:`MAP_COLOURS`.
        dark: as for :class:`Card`.
    """

    title = "map of people"

    def __init__(self, model: SolidarityModel, colour: str = "opinion", dark: bool = False) -> None:
        self.colour = MAP_COLOURS[colour]
        self.colour_name = colour
        super().__init__(model, dark)

    def build(self, model: SolidarityModel) -> None:
        """The raster of cells, a colour bar and a title saying who is drawn."""
        width, height = model.parameters["width"], model.parameters["height"]
        self.cells = np.full((height, width), np.nan)
        self.rows, self.columns = model.position[:, 1], model.position[:, 0]
        self.ax = ax = self.figure.add_axes((0.03, 0.04, 0.7, 0.84))
        cmap = self.colour.cmap.with_extremes(bad=DARK_BACKGROUND if self.dark else "white")
        self.raster = ax.imshow(self.cells, cmap=cmap, norm=self.colour.norm, origin="lower", interpolation="nearest",
                                extent=(-0.5, width - 0.5, -0.5, height - 0.5))
        ax.set_axis_off()  # no frame: the raster, drawn over the kept frame at each step, would cover it
        bar = self.figure.colorbar(ScalarMappable(self.colour.norm, self.colour.cmap),
                                   cax=self.figure.add_axes((0.78, 0.12, 0.035, 0.68)), label=self.colour.label)
        if self.colour.ticks is not None:
            bar.set_ticks(self.colour.ticks, labels=self.colour.tick_labels)
        _title(ax, f"all {model.n_people:,} people (colour: {self.colour.label})")
        self.dynamic = [self.raster]

    def update(self, model: SolidarityModel) -> None:
        """Each occupied cell takes its person's value."""
        self.cells[self.rows, self.columns] = self.colour.read(model)
        self.raster.set_data(self.cells)


# --- virtual groups -----------------------------------------------------------------------------


class VirtualGroupsCard(Card):
    """One bar per virtual group: its size, coloured by its members' mean opinion (grey when empty)."""

    title = "virtual groups"
    measures = ("active_virtual_groups", "group_size_gini")

    def build(self, model: SolidarityModel) -> None:
        """A bar per group, in group order."""
        self.ax = ax = _chart_axes(self.figure, counts=True)
        count = model.n_virtual_groups
        groups = np.arange(count)
        self.bars = Bars(ax, groups - 0.425, groups + 0.425)
        ax.set_xlabel("virtual group")
        ax.set_ylabel("members")
        ax.set_xlim(-0.6, max(count, 1) - 0.4)
        ax.grid(axis="y", alpha=0.3)
        _title(ax, "size of each group (colour: mean opinion)")
        self.dynamic = [self.bars.collection]

    def update(self, model: SolidarityModel) -> None:
        """Heights from ``model.group_size``, colours from ``model.group_opinion``."""
        size, opinion = model.group_size, model.group_opinion
        colours = OPINION_CMAP(OPINION_NORM(np.nan_to_num(opinion)))
        colours[np.isnan(opinion)] = EMPTY_GROUP
        self.bars.set_heights(size)
        self.bars.collection.set_facecolors(colours)
        self.ax.set_ylim(0, nice_ceiling(1.05 * size.max(initial=0)))


# --- the network of virtual groups --------------------------------------------------------------


def shared_members(memberships: np.ndarray, n_groups: int) -> np.ndarray:
    """(groups, groups) how many people belong to both of two virtual groups (0 on the diagonal).

    Args:
        memberships: (people, slots) virtual group ids, -1 for a free slot.
        n_groups: the number of virtual groups.
    """
    counts = np.zeros(n_groups * n_groups, dtype=np.int64)
    slots = memberships.shape[1]
    for a in range(slots):
        for b in range(a + 1, slots):
            first, second = memberships[:, a], memberships[:, b]
            both = (first >= 0) & (second >= 0)
            counts += np.bincount(first[both] * n_groups + second[both], minlength=n_groups * n_groups)
    shared = counts.reshape(n_groups, n_groups)
    return shared + shared.T


class GroupNetworkCard(Card):
    """The virtual groups as a network: a node per group with members (area: members, colour: mean opinion),
    an edge per pair of groups that share members (width: how many), laid out by a force layout in which
    shared members pull groups together.

    Groups of like opinion that share people sit together: clusters of one colour are echo chambers
    forming; a group between two colours bridges them. The layout goes on from the last step's, so
    groups move only as much as their ties change.
    """

    title = "network of virtual groups"
    measures = ("active_virtual_groups",)
    #: Node area (points^2) of the largest group.
    LARGEST_NODE = 500.0

    def build(self, model: SolidarityModel) -> None:
        """Empty edges and nodes on fixed limits (the layout is scaled into them)."""
        self.ax = ax = self.figure.add_axes((0.02, 0.02, 0.96, 0.86))
        ax.set_xlim(-1.2, 1.2)
        ax.set_ylim(-1.2, 1.2)
        ax.set_axis_off()
        self.edges = LineCollection([], colors="0.55", alpha=0.5, zorder=1)
        ax.add_collection(self.edges)
        self.nodes = ax.scatter(np.empty(0), np.empty(0), c=np.empty(0), cmap=OPINION_CMAP, norm=OPINION_NORM,
                                edgecolors="0.3", linewidths=0.5, zorder=2)
        self.positions: dict[int, np.ndarray] = {}
        self.empty = ax.text(0.5, 0.5, "no virtual group has members yet", transform=ax.transAxes, ha="center",
                             va="center", color="0.5")
        self.dynamic = [self.edges, self.nodes, self.empty]

    def update(self, model: SolidarityModel) -> None:
        """Lay out the groups with members by the members they share, from the last positions."""
        import networkx as nx  # only when the card is drawn: the command line starts without it

        size, opinion = model.group_size, model.group_opinion
        active = np.flatnonzero(size > 0)
        shared = shared_members(model.memberships, model.n_virtual_groups)[np.ix_(active, active)]
        # The graph of the groups with members, numbered 0.. in ``active`` order, edges weighted by shared members.
        graph = nx.from_numpy_array(shared.astype(float))
        if active.size:
            start = {node: self.positions[group] for node, group in enumerate(active.tolist())
                     if group in self.positions}
            layout = nx.spring_layout(graph, pos=start or None, weight="weight", seed=0,
                                      iterations=15 if len(start) == len(graph) else 100)
            layout = nx.rescale_layout_dict(layout, scale=1.0) if len(graph) > 1 else layout
            self.positions.update({int(active[node]): where for node, where in layout.items()})
        xy = np.array([self.positions[group] for group in active.tolist()]).reshape(-1, 2)
        self.nodes.set_offsets(xy)
        self.nodes.set_array(opinion[active])
        self.nodes.set_sizes(self.LARGEST_NODE * size[active] / max(size.max(initial=0), 1))
        first, second = np.nonzero(np.triu(shared, 1))
        weights = shared[first, second].astype(float)
        self.edges.set_segments(np.stack([xy[first], xy[second]], axis=1))
        self.edges.set_linewidths(0.2 + 3.0 * weights / weights.max() if weights.size else [])
        self.empty.set_visible(active.size == 0)


# --- outcomes over time -------------------------------------------------------------------------


@dataclass(frozen=True)
class Trend:
    """A line plot of recorded outcomes against the step.

    Attributes:
        title: the card's title.
        lines: the outcomes drawn, one line each, labelled as the outcome registry labels them.
        ylabel: the vertical axis' label.
        ylim: the range always shown (widened, in tenths, if a value falls outside it).
    """

    title: str
    lines: tuple[str, ...]
    ylabel: str
    ylim: tuple[float, float] = (0.0, 1.0)


#: The line plots of the app, in the order of their cards: the essay's four questions, each asked of two measures.
TRENDS: tuple[Trend, ...] = (
    Trend("polarization", ("esteban_ray", "opinion_variance"), "index (0: consensus)"),
    Trend("echo chambers", ("echo_chamber_index", "exposure_diversity"), "correlation; spread", (-0.2, 1.0)),
    Trend("support for people in need", ("support_online", "support_offline"), "share of a need met"),
    Trend("belonging", ("belonging", "belonging_isolated"), "belonging (0 to 1)"),
)


def line_label(name: str) -> str:
    """An outcome's line label in the app: the registry's label, or its name."""
    return OUTCOMES[name].label or name


class TrendCard(Card):
    """The outcomes of a :class:`Trend`, read from the datacollector, one line each.

    Args:
        model: the model drawn.
        trend: the plot.
        dark: as for :class:`Card`.
    """

    def __init__(self, model: SolidarityModel, trend: Trend, dark: bool = False) -> None:
        """Build the line plot of ``trend`` for ``model``."""
        self.trend = trend
        self.title = trend.title
        self.measures = trend.lines
        super().__init__(model, dark)

    def build(self, model: SolidarityModel) -> None:
        """One line per outcome, the legend above the axes."""
        self.ax = ax = _chart_axes(self.figure, top=0.86)
        self.lines = {name: ax.plot([], [], linewidth=1.5, markersize=3, label=line_label(name))[0]
                      for name in self.trend.lines}
        ax.set_xlabel("step")
        ax.set_ylabel(self.trend.ylabel)
        ax.grid(alpha=0.3)
        # Centred on the figure, not the axes: two labels of a line each fit its whole width.
        self.figure.legend(handles=list(self.lines.values()), loc="upper center", bbox_to_anchor=(0.5, 1.0), ncol=2,
                           fontsize="small", frameon=False, handlelength=1.5, columnspacing=1.2)
        self.dynamic = list(self.lines.values())

    def update(self, model: SolidarityModel) -> None:
        """Lines from ``model.datacollector.model_vars``; the axes grow to fit the values."""
        records = model.datacollector.model_vars
        # While Play runs, a step may be collecting as this is drawn: use complete rows only.
        rows = min(len(records["step"]), *(len(records[name]) for name in self.trend.lines))
        steps = np.asarray(records["step"][:rows], dtype=float)
        low, high = self.trend.ylim
        for name in self.trend.lines:
            values = np.asarray(records[name][:rows], dtype=float)
            self.lines[name].set_data(steps, values)
            self.lines[name].set_marker("o" if steps.size <= SHORT_SERIES else "")
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
    title = "opinions"
    measures = ("bimodality", "opinion_clusters")

    def build(self, model: SolidarityModel) -> None:
        """One bar per opinion bin, coloured by the bin's centre."""
        self.ax = ax = _chart_axes(self.figure, counts=True)
        self.edges = np.linspace(-1.0, 1.0, self.BINS + 1)
        centres = (self.edges[:-1] + self.edges[1:]) / 2
        self.bars = Bars(ax, self.edges[:-1], self.edges[1:], facecolors=OPINION_CMAP(OPINION_NORM(centres)),
                         edgecolors="0.4", linewidths=0.3)
        ax.set_xlim(-1, 1)
        ax.set_xlabel("opinion")
        ax.set_ylabel("people")
        ax.grid(axis="y", alpha=0.3)
        _title(ax, f"opinions of all {model.n_people:,} people")
        self.dynamic = [self.bars.collection]

    def update(self, model: SolidarityModel) -> None:
        """Counts of ``model.opinion``."""
        counts = np.histogram(np.clip(model.opinion, -1.0, 1.0), bins=self.edges)[0]
        self.bars.set_heights(counts)
        self.ax.set_ylim(0, nice_ceiling(1.05 * counts.max()))


# --- Solara components ----------------------------------------------------------------------------


def use_card(model: SolidarityModel, version: int, make: Callable[[SolidarityModel, bool], Card],
             key: Hashable = None) -> Card:
    """This component's card for ``model`` (a new one after Reset, a change of theme or of ``key``), updated
    to the model's current step; ``version`` is Mesa's ``update_counter`` as the page read it.
    """
    dark = solara.lab.use_dark_effective()  # follows the theme toggle
    card = solara.use_memo(lambda: make(model, dark), [model, dark, key])
    solara.use_memo(lambda: card.update(model), [card, version])
    return card


@solara.component
def MeasureValues(model: SolidarityModel, names: tuple[str, ...], version: int):
    """Each measure's current value as page text (``data-outcome`` names it), after the label of its line."""
    with solara.Row(gap="14px", style={"flex-wrap": "wrap", "font-size": "0.85em", "line-height": "1.3"}) as row:
        for name in names:
            solara.v.Html(tag="span", attributes={"data-outcome": name, "class": "simsolidarity-value"},
                          children=[f"{line_label(name)}: {shown_value(current(model, name))}"])
    return row


@solara.component
def CardView(model: SolidarityModel, version: int, card: Card, filename: str,
             choice: Callable[[], object] | None = None):
    """A card on the page: title, current values, the picture at the card's width, the meanings, a PNG button.

    ``choice``, if given, makes a control of the card's (in its title row).
    """
    picture = solara.use_memo(card.png, [card, version])
    with solara.Card(margin=0, classes=["simsolidarity-card"], style={"padding": "4px 10px", "height": "100%"}) as view:
        with solara.Row(justify="space-between", style={"align-items": "center"}):
            solara.v.Html(tag="h3", attributes={"class": "simsolidarity-card-title"}, children=[card.title],
                          style_="font-size: 1em; margin: 0")
            if choice is not None:
                choice()
            # The picture of the moment of the click: a callable, the same at every step, so that the button
            # is not drawn again (and its download thread not restarted) at each step.
            solara.FileDownload(card.png, filename=filename, label="PNG", icon_name="mdi-download",
                                mime_type="image/png")
        if card.measures:
            MeasureValues(model, card.measures, version)
        solara.Image(picture, width="100%", classes=["simsolidarity-picture"])
        if card.measures:
            solara.v.Html(tag="div", attributes={"class": "simsolidarity-meaning"}, children=[
                "; ".join(f"{line_label(name)}: {OUTCOMES[name].meaning}" for name in card.measures)])
    return view


def _filename(model: SolidarityModel, what: str) -> str:
    # Without the step: a name that changes at every step would draw the button again at every step.
    name = getattr(model, "scenario_name", "") or "model"
    return f"{name}-{what.replace(' ', '_')}.png"


@solara.component
def TrendView(model: SolidarityModel, version: int, trend: Trend):
    """The card of one line plot of :data:`TRENDS`."""
    card = use_card(model, version, lambda m, dark: TrendCard(m, trend, dark))
    return CardView(model, version, card, _filename(model, trend.title))


@solara.component
def PeopleMapView(model: SolidarityModel, version: int):
    """The map's card, with the choice of what its colour shows."""
    colour, set_colour = solara.use_state("opinion")
    card = use_card(model, version, lambda m, dark: PeopleMapCard(m, colour, dark), key=colour)

    def choice() -> None:
        solara.Select("colour", values=list(MAP_COLOURS), value=colour, on_value=set_colour, dense=True,
                      style={"max-width": "130px"}, classes=["simsolidarity-map-colour"])

    return CardView(model, version, card, _filename(model, f"map {colour}"), choice=choice)


@solara.component
def GroupNetworkView(model: SolidarityModel, version: int):
    """The card of the network of virtual groups."""
    card = use_card(model, version, GroupNetworkCard)
    return CardView(model, version, card, _filename(model, "group network"))


@solara.component
def VirtualGroupsView(model: SolidarityModel, version: int):
    """The card of the virtual groups' sizes."""
    card = use_card(model, version, VirtualGroupsCard)
    return CardView(model, version, card, _filename(model, "virtual groups"))


@solara.component
def OpinionHistogramView(model: SolidarityModel, version: int):
    """The card of the histogram of opinions."""
    card = use_card(model, version, OpinionHistogramCard)
    return CardView(model, version, card, _filename(model, "opinions"))


def all_cards(model: SolidarityModel, dark: bool = False) -> list[Card]:
    """Every card of the page for ``model``, in page order (see :func:`page_cards`), drawn without a page."""
    first, second, third, fourth = TRENDS
    return [TrendCard(model, first, dark), TrendCard(model, second, dark), PeopleMapCard(model, dark=dark),
            TrendCard(model, third, dark), TrendCard(model, fourth, dark), GroupNetworkCard(model, dark),
            OpinionHistogramCard(model, dark), VirtualGroupsCard(model, dark)]


def page_cards(model: SolidarityModel, version: int) -> list[Callable[[], object]]:
    """Every card component of the page, in page order: the four headline plots with the map and the network
    among them (three to a row), then the opinions and the groups' sizes.

    ``version`` is Mesa's ``update_counter`` as read by the page, the one component that reads it: each
    reader would have the page drawn again, once per step for each.
    """
    first, second, third, fourth = TRENDS
    return [TrendView(model, version, first), TrendView(model, version, second), PeopleMapView(model, version),
            TrendView(model, version, third), TrendView(model, version, fourth), GroupNetworkView(model, version),
            OpinionHistogramView(model, version), VirtualGroupsView(model, version)]
