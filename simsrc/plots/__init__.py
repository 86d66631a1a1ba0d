"""Publication figures from simsrc results (a package: one module per chart family).

Every plotting function takes ``ax=None`` and returns the figure it drew on. With ``ax=None``
it makes a new figure at publication size (6.5 in wide) with a footer that states what is
shown, the units and the source (``simsrc 0.1.0, scenario X, N draws; baseline data: ...``),
so a pasted PNG carries its own caption. With ``ax`` given it draws on that axes only and
leaves the footer to the caller; the caption text is still stored on the returned figure as
``fig.simsrc_caption`` (the report uses it).

Figures are :class:`matplotlib.figure.Figure` objects not registered with pyplot (no GUI
backend, no global figure list to leak); in a notebook they display as a cell's value. Save
them with :func:`save_figure` (PNG at 300 dpi, SVG, PDF).

Colours: Okabe & Ito's colour-blind-safe palette for the eight most used regions and for
series, Paul Tol's "muted" scheme for the rest; :data:`REGION_COLORS` fixes a region's colour
across figures. Regions are always labelled too (tick labels or legend), so no figure relies
on colour alone. Sequential maps are ``cividis``; diverging maps ``RdBu`` (ColorBrewer,
colour-blind safe), centred on zero.

Modules: :mod:`.style` (palettes, rc style, units, labels, display scales, captions, saving:
the vocabulary :mod:`simsrc.report` uses too), :mod:`.data` (reading results for charts),
:mod:`.fan`, :mod:`.effects`, :mod:`.welfare`, :mod:`.flows`, :mod:`.sensitivity`,
:mod:`.sweep` and :mod:`.dispatch` (:func:`figures_for`, the figures of `simsrc plot`). Every
public name is re-exported here: ``from simsrc import plots as P; P.fan_grid(...)``.
"""

from __future__ import annotations

from .style import (  # noqa: F401
    CF_SUFFIX, DASH, DIVERGING_CMAP, FIG_HEIGHT, FIG_WIDTH, FOOTER_FONTSIZE,
    LABELS, MINUS, OKABE_ITO, OTHER_COLORS, PNG_DPI, REGION_COLORS,
    SEQUENTIAL_CMAP, SERIES_COLORS, STYLE, TOL_MUTED, WELFARE_COMPONENTS, _FREQ,
    _MPL_310, _axes, _axes_width_in, _container, _darken, _dataset,
    _dataset_name, _finish, _is_price_unit, _line_color, _metadata, _new_figure,
    _set_period_axis, _styled, caption_of, comparison_names, data_source, display_scale,
    is_comparison, mineral_name, output_label, output_unit, period_index, period_labels,
    price_unit, region_colors, save_figure, scenario_title, source_line, style,
)
from .data import (  # noqa: F401
    _count_range, _draws, _guard_flat, _lower_first, _n_periods, _open,
    _period_spec, _quantile_frame, _read_parquet, _summary, _value_axis_label, check_mineral,
    check_output, check_regions, interval_table, minerals_of, outputs_of, period_text,
    quantity_name, regions_of,
)
from .fan import (  # noqa: F401
    _fan_data, fan_chart, fan_grid, fan_grid_shape,
)
from .effects import (  # noqa: F401
    _STAT_WORDS, _check_stat, effect_bars, region_effects, scenario_effects,
)
from .welfare import (  # noqa: F401
    welfare_components, welfare_distribution,
)
from .flows import (  # noqa: F401
    _align_flows, _annotate, _flow_matrix, _fmt, _heatmap, flow_heatmap,
    flow_panels, supplier_bars,
)
from .sensitivity import (  # noqa: F401
    _col, _names, _outcome_label, _place_labels, morris_indices, sobol_indices,
    tornado,
)
from .sweep import (  # noqa: F401
    sweep_heatmap,
)
from .dispatch import (  # noqa: F401
    KINDS, TABLE_KINDS, _SELECTORS, _select, _stem, _sweep_pivot,
    figures_for, find_table, read_table, table_figure,
)
from .style import SCALE_RATIO, YSCALES, choose_scales, is_constant  # noqa: F401
from .flows import LOG_COLOR_RATIO, flow_norm  # noqa: F401
from .sweep import is_one_parameter, sweep_line  # noqa: F401
from .effects import mineral_effects  # noqa: F401
from .style import dataset_of  # noqa: F401
from .data import count_range, draws_of, n_periods, summary_of  # noqa: F401
from .dispatch import SELECTORS  # noqa: F401
