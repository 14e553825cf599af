"""The JSON API and the map's geometry endpoint, on the same server as the screens.

``GET /healthz``, ``/api/v1/units``, ``/api/v1/units/<code>``, ``…/children`` and
``…/children.geojson``; the staff endpoints ``GET /api/v1/cases``, ``/api/v1/cases/<external_id>``,
``…/units/<code>/loop``, ``…/ranking`` and ``…/alarms``. An unknown code is a 404 and a bad
parameter a 400, each with a message. ``POST /api/v1/cases`` is the one write: live ingest with a
writer token.

Access (``callbacks/auth.py``): the blueprint's ``before_request`` is ``auth.api_guard``, which
checks a ``<code>`` in the URL against the caller's scope and the handler's ``@needs(...)``
against its role; handlers get the service through ``_data()``, already scoped to the caller.
Case lists and one case need "cases" (analysts and admins); ``?unit=`` is checked by the scoped
service like a ``<code>``.
"""

from __future__ import annotations

import gzip
import json
import math

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import RequestEntityTooLarge

from callbacks import auth
from callbacks.throttle import expensive
from dashboard import limits, strings
from dashboard.domain import RANK_LEVELS, CaseQuery, parse_int
from dashboard.indicators import INDICATORS, MAP_METRICS
from dashboard.limits import TooBusy
from dashboard.viewstate import CELL_KINDS, BadRequest, Period, ViewState
from data.ingest.importer import ImportRejected
from data.scoped import ScopedData
from data.service import UNREACHABLE, CityData, QueryTimeout, StoreReplaced, StoreUnavailable
from data.tiles import EMPTY_TILE, MBTiles
from geo.cells import size_for_bounds
from geo.geojson import dumps

api = Blueprint("citybrain_api", __name__)
api.before_request(auth.api_guard)
RETRY_AFTER_SECONDS = 5


class NullJSONProvider(DefaultJSONProvider):
    """The app's one JSON encoder: a missing number (NaN, ±inf, pandas NA) is ``null``, never the
    ``NaN`` that ``JSON.parse`` refuses; NumPy numbers are plain numbers; Chinese stays readable."""

    ensure_ascii = False

    def dumps(self, obj, **kwargs):
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        kwargs.setdefault("default", self.default)
        try:  # the fast path: most answers hold no NaN and no NumPy scalar
            return json.dumps(obj, allow_nan=False, **kwargs)
        except (ValueError, TypeError):
            return json.dumps(json_safe(obj), allow_nan=False, **kwargs)


def json_safe(obj):
    """``obj`` with every non-finite float (and NumPy scalar) replaced for strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item) and getattr(obj, "ndim", 1) == 0:
        return json_safe(obj.item())  # NumPy scalar
    if obj is not None and type(obj).__name__ in ("NAType", "NaTType"):
        return None
    return obj


def register(app, data: CityData, *, writer_token: str = "", tiles: MBTiles | None = None) -> None:
    server = app.server
    server.extensions["citybrain"] = {"data": data, "writer_token": writer_token, "tiles": tiles}
    server.json = NullJSONProvider(server)
    server.config["MAX_CONTENT_LENGTH"] = limits.current().max_body_bytes
    # App-wide, so other blueprints (exports) answer the same way.
    server.register_error_handler(TooBusy, _too_busy)
    for error in UNREACHABLE:
        server.register_error_handler(error, _unavailable)
    server.register_error_handler(RequestEntityTooLarge, _too_large)
    server.register_blueprint(api)


def _too_busy(exc):
    response = _error(429, str(exc))
    response.headers["Retry-After"] = "1"
    return response


def _too_large(_exc):
    return _error(413, f"请求体过大 request body too large (limit {limits.current().max_body_bytes:,} "
                       "bytes, CITYBRAIN_MAX_BODY_BYTES)")


def _data() -> ScopedData:
    """The service as the caller may see it."""
    return auth.scoped(current_app.extensions["citybrain"]["data"])


@api.errorhandler(BadRequest)
def _bad_request(exc):
    return _error(400, str(exc))


@api.errorhandler(StoreUnavailable)
def _unavailable(exc):
    if isinstance(exc, StoreReplaced):
        return _error(503, f"{strings.STORE_REPLACED} store replaced: {exc}")
    response = _error(503, "数据库暂时无法访问 store unavailable, retry later")
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.errorhandler(QueryTimeout)
def _timeout(exc):
    return _error(503, "查询超时 (query timed out)")


@api.get("/healthz")
@auth.needs(None)
def healthz():
    """``{"status": "ok"}``, or "degraded" (503) when the store cannot be reached or its embedded
    file was replaced while served (writes are then refused until a restart); the store, the data
    version and the problem's details only for an admin, who also gets the moment overdue is
    counted at (``as_of``) and how many rows lie outside every grid (``outside_grid``: counted at
    the lowest unit containing them, or in no unit). Counts only."""
    data = current_app.extensions["citybrain"]["data"]
    try:
        version = data.version(fresh=True)
    except StoreUnavailable:
        version = None
    who = auth.principal()
    admin = who is not None and who.may("admin")
    if data.store_problem:
        problem = (data.store_problem if admin
                   else "数据文件在运行中被替换或损坏 store file replaced or damaged; restart")
        details = {"store": data.store.kind, "version": version} if admin else {}
        return jsonify(status="degraded", problem=problem, writes="refused until restart", **details), 503
    if version is None:
        return jsonify(status="degraded"), 503
    if admin:
        return jsonify(status="ok", store=data.store.kind, version=version,
                       as_of=data.as_of().isoformat(timespec="minutes"),
                       outside_grid=data.outside_grid())
    return jsonify(status="ok")


@api.get("/api/v1/units")
def roots():
    data = _data()
    return jsonify(units=[_unit_json(u) for u in data.roots()])


@api.get("/api/v1/units/<code>")
def unit(code):
    data = _data()
    found = _unit_or_404(data, code)
    period, filters = _period_and_filters(data)
    chain = data.ancestors(code)
    kpis = data.kpis(code, period, filters)
    try:
        compared = data.comparison(code, period, filters, request.args.get("compare") or None)
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    profile = data.profile(code, period)
    return jsonify(
        unit=_unit_json(found), level=found["level"],
        parents=[_unit_json(u) for u in chain[:-1]],
        period=_period_json(period), kpis=_kpis_json(kpis["values"], kpis["counts"]),
        counts=_counts_json(kpis["counts"]), as_of=data.as_of().isoformat(timespec="minutes"),
        comparison=_comparison_json(compared), profile=profile,
    )


@api.get("/api/v1/units/<code>/children")
def children(code):
    data = _data()
    found = _unit_or_404(data, code)
    period, filters = _period_and_filters(data)
    rows = data.children_kpis(code, period, filters).to_dict("records")
    return jsonify(
        unit=_unit_json(found), period=_period_json(period),
        children=[{**_unit_json(r), "kpis": _kpis_json(r, r)} for r in rows],
    )


@api.get("/api/v1/units/<code>/surveys")
def surveys(code):
    """Survey indicators (群众安全感, 执法满意度) as a series per indicator, oldest first."""
    data = _data()
    found = _unit_or_404(data, code)
    return jsonify(unit=_unit_json(found), surveys=data.surveys(code))


@api.get("/api/v1/units/<code>/police")
def police(code):
    """Police cases per kind (刑事 / 治安) and 案由 in the period, with 同比 ("—" when last year's
    data does not cover the compared dates)."""
    data = _data()
    found = _unit_or_404(data, code)
    period, _filters = _period_and_filters(data)
    answer = data.police_summary(code, period)
    return jsonify(unit=_unit_json(found), period=_period_json(period),
                   compared=_period_json(answer["compared"]), covered=answer["covered"],
                   kinds=answer["kinds"])


@api.get("/api/v1/units/<code>/sensitive")
def sensitive(code):
    """Household risk (高/中/低风险户) and special populations: counts per unit only, for the
    unit and each child; never a household or a person."""
    data = _data()
    found = _unit_or_404(data, code)
    totals = data.sensitive(code)
    names = {u["code"]: u for u in data.children(code)}
    return jsonify(unit=_unit_json(found), totals=totals.get(code, {}),
                   children=[{**_unit_json(names[c]), "totals": t} for c, t in totals.items()
                             if c != code])


@api.get("/api/v1/units/<code>/children.geojson")
def children_geojson(code):
    data = _data()
    _unit_or_404(data, code)
    period, filters = _period_and_filters(data)
    metric = limits.choice(request.args.get("metric") or "accepted", "metric", "指标", MAP_METRICS)
    values = data.children_kpis(code, period, filters).set_index("code")[metric]
    collection = data.children_geometry(code).collection
    features = [
        {**f, "properties": {**f["properties"], "metric": metric,
                             "value": _exact(values.get(f["properties"]["code"]))}}
        for f in collection["features"]
    ]
    body = dumps({"type": "FeatureCollection", "features": features})
    return Response(body, mimetype="application/geo+json")


@api.post("/api/v1/cases")
@auth.needs("ingest")
def ingest():
    """Live ingest: one case or a batch, validated like a file import, idempotent by
    ``external_id``; needs a writer token (``Authorization: Bearer …``: a ``writer`` token or the
    legacy ``CITYBRAIN_WRITER_TOKEN``)."""
    data = current_app.extensions["citybrain"]["data"]
    if data.check_store():
        raise StoreReplaced(data.store_problem)
    records, options = _ingest_body()
    partial = _flag(request.args.get("partial", options.get("partial", False)))
    crs = options.get("crs")
    if crs is not None and (isinstance(crs, bool) or not isinstance(crs, str | int)):
        raise BadRequest(f"参数 crs 应为文本 crs must be text such as \"gcj02\" or \"EPSG:4547\", "
                         f"got {crs!r}")
    try:
        report = data.ingest_cases(records, partial=partial, crs=crs, actor="api")
    except ImportRejected as exc:
        return jsonify(error="校验未通过，未写入任何数据 validation failed, nothing stored",
                       **exc.report.as_dict()), 400
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    auth.audit("ingest", object=f"inserted={report.result.inserted} updated={report.result.updated}")
    status = 201 if report.result.inserted else 200
    return jsonify(report.as_dict()), status


def _ingest_body() -> tuple[list, dict]:
    """The posted cases and the batch's options, or a ``BadRequest`` naming what is wrong."""
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413
    try:
        body = json.loads(raw)
    except RecursionError:
        raise BadRequest(f"body 嵌套过深 JSON nested deeper than {limits.current().max_json_depth} "
                         "levels") from None
    except ValueError:
        raise BadRequest("请求体应为 JSON body must be JSON (Content-Type: application/json)") from None
    limits.json_depth(body)
    records = body.get("cases", body) if isinstance(body, dict) else body
    records = [records] if isinstance(records, dict) else records
    options = body if isinstance(body, dict) and "cases" in body else {}
    if not isinstance(records, list):
        raise BadRequest("cases 应为事件对象的数组 cases must be a case object or a list of them")
    most = limits.current().max_batch
    if len(records) > most:
        raise BadRequest(f"一次最多 {most} 件 too many cases in one request ({len(records):,} > {most}, "
                         "CITYBRAIN_MAX_BATCH); send several batches")
    return records, options


@api.get("/api/v1/units/<code>/heat")
@expensive
def heat(code):
    """Disputes per hexagon or square cell (metres in the unit's UTM zone), with counts. A size
    finer than the unit's area allows (``CITYBRAIN_MAX_HEAT_CELLS``) is raised, and the answer
    says so; the answer is built once per question and data version and served as cached bytes."""
    data = _data()
    found = _unit_or_404(data, code)
    state = _view_state(data)
    period = state.period(data.now().date())
    cell = limits.choice(limits.param_text(request.args.get("cell") or "hex", "cell"), "cell", "网格形状",
                         CELL_KINDS)
    asked = _cell_size(request.args.get("size"), data, code)
    size, raised = data.heat_size(code, cell, asked)

    def build() -> bytes:
        # Only the finished answer is kept (gzipped): a new size costs ~0.3 MB of cache, not 10.
        cells = data.heat_cells(code, period, state.heat, cell=cell, size=size, cache=False)
        answer = {
            "unit": _unit_json(found), "period": _period_json(period), "cell": cell, "size_m": size,
            "crs": f"EPSG:{data.metric_epsg(code)}", "filters": state.heat.query(),
            "total": sum(c["count"] for c in cells["records"]),
            "cells": [{"i": r["i"], "j": r["j"], "count": r["count"], "lon": r["lon"], "lat": r["lat"],
                       "geometry": f["geometry"]}
                      for r, f in zip(cells["records"], cells["geojson"]["features"], strict=True)],
        }
        if raised:
            answer["size_requested"] = asked
            answer["size_note"] = (f"size={asked} 对该单元过细，已放大到 {size} 米 raised to {size} m: "
                                   "at most "
                                   f"{limits.current().max_heat_cells:,} cells per unit")
        return current_app.json.dumps(answer).encode()

    body = data.cached_answer("heat_api", build, code=code, first=period.first, last=period.last,
                              heat=state.heat, cell=cell, size=size, asked=asked)
    return _bytes_response(body, "application/json")


def _bytes_response(gzipped: bytes, mimetype: str) -> Response:
    """A cached gzipped answer, sent as is to clients that take gzip, else unpacked."""
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = Response(gzipped, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(gzip.decompress(gzipped), mimetype=mimetype)
    response.headers["Vary"] = "Accept-Encoding"
    return response


@api.get("/api/v1/units/<code>/coverage")
@expensive
def coverage(code):
    """Camera coverage of each child: covered share, blind area, uncovered key places, online
    rate, cases in blind spots; and where one more camera would help most."""
    data = _data()
    found = _unit_or_404(data, code)
    period, _filters = _period_and_filters(data)
    answer = data.coverage(code, period)
    names = {u["code"]: u for u in data.children(code)} or {code: found}
    return jsonify(
        unit=_unit_json(found), period=_period_json(period), crs=f"EPSG:{answer['epsg']}",
        total=_coverage_json(answer["total"]),
        children=[{**_unit_json(names[m["code"]]), **_coverage_json(m)} for m in answer["members"]],
        suggestions=[{**s, "unit": _unit_json(names[s["member"]]),
                      "text": strings.suggestion_text(s, names[s["member"]]["name"])}
                     for s in answer["suggestions"]],
    )


@api.get("/tiles/<int:z>/<int:x>/<int:y>")
@auth.needs(None)  # a base map, like the page's scripts: nothing of the city's data
def tile(z, x, y):
    """A base-map tile from the local MBTiles file (``CITYBRAIN_TILE_FILE``): 404 without a file,
    a transparent tile where the file has none."""
    tiles = current_app.extensions["citybrain"]["tiles"]
    if tiles is None:
        return Response(status=404)
    body, kind = tiles.tile(z, x, y) or (EMPTY_TILE, "image/png")
    response = Response(body, mimetype=kind)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@api.get("/geo/<code>.geojson")
def geometry(code):
    """Simplified boundaries for the map; the URL carries a version, so it caches forever."""
    data = _data()
    _unit_or_404(data, code)
    geometry = data.children_geometry(code)
    if request.if_none_match.contains(geometry.etag):
        return Response(status=304)
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        response = Response(geometry.body, mimetype="application/geo+json")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(gzip.decompress(geometry.body), mimetype="application/geo+json")
    response.set_etag(geometry.etag)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"  # scoped: no shared cache
    response.headers["Vary"] = "Accept-Encoding"
    return response


def _flag(value) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    return response


def _unit_or_404(data: CityData, code: str) -> dict:
    found = data.unit(limits.unit_code(code, "code"))
    if found is None:
        abort(_error(404, f"未找到单元 unit not found: {code}"))
    return found


def _period_and_filters(data: CityData) -> tuple[Period, object]:
    args = request.args
    if args.get("from") or args.get("to"):
        if not (args.get("from") and args.get("to")):
            raise BadRequest("from 与 to 需同时给出 (YYYY-MM-DD)")
    state = ViewState.from_query(request.query_string.decode())
    return state.period(data.now().date()), state.filters


def _view_state(data: CityData) -> ViewState:
    args = request.args
    if (args.get("from") or args.get("to")) and not (args.get("from") and args.get("to")):
        raise BadRequest("from 与 to 需同时给出 (YYYY-MM-DD)")
    return ViewState.from_query(request.query_string.decode())


def _cell_size(text: str | None, data: CityData, code: str) -> int | float:
    if not text:
        return size_for_bounds(data.children_geometry(code).bounds)
    bound = limits.current()
    size = limits.ascii_number(text, "size", minimum=bound.min_cell_m, maximum=bound.max_cell_m,
                               what="格边长米数 cell edge in metres")
    return int(size) if size.is_integer() else size


def _coverage_json(row: dict) -> dict:
    out = {k: (_number(v) if isinstance(v, float) else v) for k, v in row.items()
           if k not in ("code", "uncovered_place_list")}
    if "uncovered_place_list" in row:
        out["uncovered_key_places"] = row["uncovered_place_list"]
    return out


def _unit_json(u: dict) -> dict:
    return {k: u.get(k) for k in ("code", "name", "level", "kind", "parent_code", "population",
                                  "households", "houses", "buildings", "area_km2")}


def _period_json(period: Period) -> dict:
    return {"key": period.key, "from": period.first.isoformat(), "to": period.last.isoformat()}


def _kpis_json(values: dict, counts: dict | None = None) -> dict:
    """Every indicator: the exact value (a ratio, unrounded), its display text, its definition,
    and for a ratio both counts it divides."""
    counts = counts or {}
    out = {}
    for key, ind in INDICATORS.items():
        item = {"label": ind.label, "value": _exact(values.get(key)),
                "display": ind.format(values.get(key)), "definition": ind.definition}
        if ind.denominator is not None:
            item["numerator"] = _exact(counts.get(ind.numerator))
            item["denominator"] = _exact(counts.get(ind.denominator))
        out[key] = item
    return out


def _counts_json(counts: dict) -> dict:
    return {k: _exact(v) for k, v in counts.items()}


def _comparison_json(compared: dict) -> dict:
    return {"kind": compared["kind"], "label": compared["label"], "period": _period_json(compared["period"]),
            "covered": compared["covered"],
            "kpis": {key: {"value": _exact(compared["values"][key]),
                           "display": ind.format(compared["values"][key]),
                           "change": _exact(compared["changes"][key]),
                           "change_display": ind.format_change(compared["changes"][key])}
                     for key, ind in INDICATORS.items()}}


def _exact(value):
    """A number as it is (the API never rounds a ratio); None for missing."""
    if value is None:
        return None
    value = float(value)
    if value != value:
        return None
    return int(value) if value.is_integer() else value


def _number(value):
    if value is None:
        return None
    value = float(value)
    return None if value != value else round(value, 6)


# --- staff work: cases, the closed loop, the ranking at any depth, alarms -------------------------


@api.get("/api/v1/cases")
def cases():
    """A page of cases: ``unit`` (default the city), the period, ``status``, ``category``,
    ``source``, ``overdue=1``, ``q`` (description and address), ``sort`` (a column, ``-`` for
    descending), ``page`` and ``per_page`` (at most 500). ``total`` counts every matching case.
    A role without case text gets the rows stripped as on the /cases screen (the scoped service
    strips them; ``q`` and a sort by a hidden field are refused)."""
    data = _data()
    code = limits.unit_code(request.args["unit"]) if request.args.get("unit") else data.roots()[0]["code"]
    found = _unit_or_404(data, code)
    period, _filters = _period_and_filters(data)
    query = CaseQuery.from_args(request.args)
    page = data.case_page(code, period, query)
    return jsonify(unit=_unit_json(found), period=_period_json(period), total=page["total"],
                   page=query.page, per_page=query.per_page, sort=query.sort_key(),
                   cases=[case_json(c) for c in page["cases"]])


@api.get("/api/v1/cases/<external_id>")
@auth.needs("cases")
def case_detail(external_id):
    """One case and its closed-loop history in time order: each stage's round (a 退回 starts the
    next), duration and whether it met its limit."""
    data = _data()
    found = data.case(external_id)  # outside the caller's scope: refused (403) by the scoped service
    if found is None:
        abort(_error(404, f"未找到事件 case not found: {external_id}"))
    auth.audit("case_detail", unit=found["grid_code"], object=external_id)
    body = case_json({k: v for k, v in found.items() if k not in ("events", "stages", "units")})
    body["units"] = [_unit_json(u) for u in found["units"]]
    body["events"] = [_json_values(s) for s in found["stages"]]
    return jsonify(case=body)


@api.get("/api/v1/units/<code>/loop")
def unit_loop(code):
    """The closed loop of the unit's cases of the period: cases now at each stage, median and
    90th-percentile hours per stage against its limit, returns, overdue by stage, the level cases
    were resolved at (矛盾不上交), and the same by child unit."""
    data = _data()
    found = _unit_or_404(data, code)
    period, filters = _period_and_filters(data)
    answer = data.loop(code, period, filters)
    return jsonify(unit=_unit_json(found), period=_period_json(period),
                   **{k: (_number(v) if k == "kept_local_rate" else v) for k, v in answer.items()})


@api.get("/api/v1/units/<code>/ranking")
def unit_ranking(code):
    """The best or worst units at a depth below: ``level`` (street, community, grid), ``metric``,
    ``order`` (``worst``/``best``, or ``asc``/``desc`` by value), ``min_cases``, ``limit``."""
    data = _data()
    found = _unit_or_404(data, code)
    period, filters = _period_and_filters(data)
    args = request.args
    level = limits.choice(args.get("level") or "grid", "level", "层级", RANK_LEVELS)
    metric = limits.choice(args.get("metric") or "closure_rate", "metric", "指标", INDICATORS)
    worst_first = _rank_order(args.get("order") or "worst", INDICATORS[metric].higher_is_better)
    min_cases = parse_int(args.get("min_cases"), "min_cases", data.staff.rank_min_cases)
    limit = parse_int(args.get("limit"), "limit", 20)
    if min_cases < 0:
        raise BadRequest(f"最少事件数 min_cases={min_cases} 不能为负")
    if not 1 <= limit <= 500:
        raise BadRequest(f"条数 limit={limit} 应在 1 到 500 之间")
    answer = data.ranking(code, period, filters, level=level, metric=metric, worst_first=worst_first,
                          min_cases=min_cases, limit=limit)
    ind = INDICATORS[metric]
    return jsonify(
        unit=_unit_json(found), period=_period_json(period), level=level, metric=metric,
        label=ind.label, order="worst" if worst_first else "best", min_cases=answer["min_cases"],
        considered=answer["considered"], eligible=answer["eligible"],
        units=[{"rank": i, "code": r["code"], "name": r["name"], "parent_code": r["parent_code"],
                "accepted": r["accepted"], "value": _number(r["value"]), "display": ind.format(r["value"])}
               for i, r in enumerate(answer["rows"], start=1)],
    )


@api.get("/api/v1/units/<code>/alarms")
def unit_alarms(code):
    """What the wall screen's alarm list shows: sudden rises, overdue cases and open high-risk
    disputes, each with its reason in plain words."""
    data = _data()
    found = _unit_or_404(data, code)
    _period, filters = _period_and_filters(data)
    now = data.as_of()  # overdue as the wall screen counts it
    items = [{**r, "unit": _unit_json(r["unit"])} for r in data.rises(code, filters)]
    for c in data.alarms(code, filters):
        kind, text = alarm_reason(c, now)
        items.append({"kind": kind, "reason": text, "case": case_json(c)})
    return jsonify(unit=_unit_json(found), now=now.isoformat(timespec="seconds"), alarms=items)


def alarm_reason(case: dict, now) -> tuple[str, str]:
    """Why an alarm case is on the list: how long past its deadline, or a high-risk dispute."""
    if case.get("deadline") and case["deadline"] < now:
        late = now - case["deadline"]
        tag = (strings.OVERDUE_BY.format(days=late.days) if late.days >= 1
               else strings.OVERDUE_HOURS.format(hours=max(1, late.seconds // 3600)))
        return "overdue", f"{case['category']} {case['status']}，{tag}"
    return "high_risk", f"{strings.HIGH_RISK}{case['category']}（{case.get('subcategory') or ''}）未办结"


def _rank_order(text: str, higher_is_better: bool) -> bool:
    """Whether the ranking lists the worst first, from ``order``."""
    if limits.choice(text, "order", "排序", ("worst", "best", "asc", "desc")) in ("worst", "best"):
        return text == "worst"
    return (text == "asc") == higher_is_better


def case_json(case: dict) -> dict:
    """A case as JSON (the fields the scoped service let through), times as ISO text."""
    return _json_values(case)


def _json_values(row: dict) -> dict:
    return {k: (v.isoformat(timespec="seconds") if hasattr(v, "isoformat") else v) for k, v in row.items()}
