"""The JSON API and the map's geometry endpoint, on the same server as the screens.

``GET /healthz``, ``/api/v1/units``, ``/api/v1/units/<code>``, ``…/children`` and
``…/children.geojson``. An unknown code is a 404 and a bad parameter a 400, each with a message.
"""

from __future__ import annotations

import gzip

from flask import Blueprint, Response, abort, jsonify, request

from dashboard.indicators import INDICATORS, MAP_METRICS
from dashboard.viewstate import BadRequest, Period, ViewState
from data.service import CityData, StoreUnavailable
from geo.geojson import dumps


def register(app, data: CityData) -> None:
    app.server.register_blueprint(blueprint(data))


def blueprint(data: CityData) -> Blueprint:
    api = Blueprint("citybrain_api", __name__)

    @api.errorhandler(BadRequest)
    def _bad_request(exc):
        return _error(400, str(exc))

    @api.errorhandler(StoreUnavailable)
    def _unavailable(exc):
        return _error(503, "数据库暂时无法访问 store unavailable")

    @api.get("/healthz")
    def healthz():
        return jsonify(status="ok", store=data.store.kind, version=data.version(fresh=True))

    @api.get("/api/v1/units")
    def roots():
        return jsonify(units=[_unit_json(u) for u in data.roots()])

    @api.get("/api/v1/units/<code>")
    def unit(code):
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
        found = _unit_or_404(data, code)
        period, filters = _period_and_filters(data)
        rows = data.children_kpis(code, period, filters).to_dict("records")
        return jsonify(
            unit=_unit_json(found), period=_period_json(period),
            children=[{**_unit_json(r), "kpis": _kpis_json(r)} for r in rows],
        )

    @api.get("/api/v1/units/<code>/children.geojson")
    def children_geojson(code):
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

    @api.get("/geo/<code>.geojson")
    def geometry(code):
        """Simplified boundaries for the map; the URL carries a version, so it caches forever."""
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
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        response.headers["Vary"] = "Accept-Encoding"
        return response

    return api


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
