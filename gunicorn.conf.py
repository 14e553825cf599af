"""gunicorn settings from CityBrain's own (Linux): ``gunicorn -c gunicorn.conf.py``.

Threaded workers (gthread): a 2 ms refresh tick is answered by a free thread while another
renders a cold drill step. Several workers need a shared cache (``CITYBRAIN_CACHE_TYPE``).
"""

from dashboard.settings import Settings

_settings = Settings.from_env()

wsgi_app = "app:create_server()"
bind = f"{_settings.host}:{_settings.port}"
worker_class = "gthread"
workers = _settings.workers
threads = _settings.threads
timeout = 120
