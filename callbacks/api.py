"""The JSON API and the map's geometry endpoint, on the same server as the screens.

``GET /healthz``, ``/api/v1/units``, ``/api/v1/units/<code>``, ``…/children`` and
``…/children.geojson``. An unknown code is a 404 and a bad parameter a 400, each with a message.
``POST /api/v1/cases`` is the one write: live ingest with a writer token.

Access (``callbacks/auth.py``): the blueprint's ``before_request`` is ``auth.api_guard``, which
checks a ``<code>`` in the URL against the caller's scope and the handler's ``@needs(...)``
against its role; handlers get the service through ``_data()``, already scoped to the caller.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, abort, current_app, jsonify, request

from callbacks import auth
from dashboard import strings
from dashboard.indicators import INDICATORS, MAP_METRICS
from dashboard.viewstate import CELL_KINDS, BadRequest, Period, ViewState
from data.ingest.importer import ImportRejected, ingest_cases
from data.scoped import ScopedData
from data.service import CityData, QueryTimeout, StoreUnavailable
from geo.cells import size_for_bounds
from geo.geojson import dumps

api = Blueprint("citybrain_api", __name__)
api.before_request(auth.api_guard)


def register(app, data: CityData, *, writer_token: str = "") -> None:
    app.server.extensions["citybrain"] = {"data": data, "writer_token": writer_token}
    app.server.register_blueprint(api)


def _data() -> ScopedData:
    """The service as the caller may see it."""
    return auth.scoped(current_app.extensions["citybrain"]["data"])


@api.errorhandler(BadRequest)
def _bad_request(exc):
    return _error(400, str(exc))


@api.errorhandler(StoreUnavailable)
def _unavailable(exc):
    return _error(503, "数据库暂时无法访问 store unavailable")


@api.errorhandler(QueryTimeout)
def _timeout(exc):
    return _error(503, "查询超时 (query timed out)")


@api.get("/healthz")
@auth.needs(None)
def healthz():
    """``{"status": "ok"}`` (or "degraded", 503); the store and data version only for an admin."""
    data = current_app.extensions["citybrain"]["data"]
    try:
        version = data.version(fresh=True)
    except StoreUnavailable:
        return jsonify(status="degraded"), 503
    who = auth.principal()
    if who is not None and who.may("admin"):
        return jsonify(status="ok", store=data.store.kind, version=version)
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
    return jsonify(
        unit=_unit_json(found), level=found["level"],
        parents=[_unit_json(u) for u in chain[:-1]],
        period=_period_json(period), kpis=_kpis_json(kpis["values"]), counts=kpis["counts"],
    )


@api.get("/api/v1/units/<code>/children")
def children(code):
    data = _data()
    found = _unit_or_404(data, code)
    period, filters = _period_and_filters(data)
    rows = data.children_kpis(code, period, filters).to_dict("records")
    return jsonify(
        unit=_unit_json(found), period=_period_json(period),
        children=[{**_unit_json(r), "kpis": _kpis_json(r)} for r in rows],
    )


@api.get("/api/v1/units/<code>/children.geojson")
def children_geojson(code):
    data = _data()
    _unit_or_404(data, code)
    period, filters = _period_and_filters(data)
    metric = request.args.get("metric") or "accepted"
    if metric not in MAP_METRICS:
        raise BadRequest(f"未知指标 metric={metric!r}，可选：{', '.join(MAP_METRICS)}")
    values = data.children_kpis(code, period, filters).set_index("code")[metric]
    collection = data.children_geometry(code).collection
    features = [
        {**f, "properties": {**f["properties"], "metric": metric,
                             "value": _number(values.get(f["properties"]["code"]))}}
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
    body = request.get_json(silent=True)
    if body is None:
        raise BadRequest("请求体应为 JSON body must be JSON (Content-Type: application/json)")
    records = body.get("cases", body) if isinstance(body, dict) else body
    records = [records] if isinstance(records, dict) else records
    options = body if isinstance(body, dict) and "cases" in body else {}
    partial = _flag(request.args.get("partial", options.get("partial", False)))
    try:
        report = ingest_cases(data.store, records, partial=partial, crs=options.get("crs"),
                              timezone=data.timezone, actor="api")
    except ImportRejected as exc:
        return jsonify(error="校验未通过，未写入任何数据 validation failed, nothing stored",
                       **exc.report.as_dict()), 400
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    data.version(fresh=True)  # the next screen tick sees the change
    auth.audit("ingest", object=f"inserted={report.result.inserted} updated={report.result.updated}")
    status = 201 if report.result.inserted else 200
    return jsonify(report.as_dict()), status


@api.get("/api/v1/units/<code>/heat")
def heat(code):
    """Disputes per hexagon or square cell (metres in the unit's UTM zone), with counts."""
    data = _data()
    found = _unit_or_404(data, code)
    state = _view_state(data)
    period = state.period(data.now().date())
    cell = request.args.get("cell") or "hex"
    if cell not in CELL_KINDS:
        raise BadRequest(f"未知网格形状 cell={cell!r}，可选：{', '.join(CELL_KINDS)}")
    size = _cell_size(request.args.get("size"), data, code)
    cells = data.heat_cells(code, period, state.heat, cell=cell, size=size)
    return jsonify(
        unit=_unit_json(found), period=_period_json(period), cell=cell, size_m=size,
        crs=f"EPSG:{data.metric_epsg(code)}", filters=state.heat.query(),
        total=sum(c["count"] for c in cells["records"]),
        cells=[{"i": r["i"], "j": r["j"], "count": r["count"], "lon": r["lon"], "lat": r["lat"],
                "geometry": f["geometry"]}
               for r, f in zip(cells["records"], cells["geojson"]["features"], strict=True)],
    )


@api.get("/api/v1/units/<code>/coverage")
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
    found = data.unit(code)
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


def _cell_size(text: str | None, data: CityData, code: str) -> int:
    if not text:
        return size_for_bounds(data.children_geometry(code).bounds)
    try:
        size = float(text)
    except ValueError:
        size = float("nan")
    if not 10 <= size <= 10_000:
        raise BadRequest(f"格边长 size={text!r} 应为 10 到 10000 之间的米数")
    return int(size) if size == int(size) else size


def _coverage_json(row: dict) -> dict:
    out = {k: (_number(v) if isinstance(v, float) else v) for k, v in row.items()
           if k not in ("code", "uncovered_place_list")}
    if "uncovered_place_list" in row:
        out["uncovered_key_places"] = row["uncovered_place_list"]
    return out


def _unit_json(u: dict) -> dict:
    return {k: u.get(k) for k in ("code", "name", "level", "parent_code", "population", "area_km2")}


def _period_json(period: Period) -> dict:
    return {"key": period.key, "from": period.first.isoformat(), "to": period.last.isoformat()}


def _kpis_json(values: dict) -> dict:
    return {
        key: {"label": ind.label, "value": _number(values.get(key)),
              "display": ind.format(values.get(key)), "definition": ind.definition}
        for key, ind in INDICATORS.items()
    }


def _number(value):
    if value is None:
        return None
    value = float(value)
    return None if value != value else round(value, 6)
