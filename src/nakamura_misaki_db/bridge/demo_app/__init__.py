"""Two tiny application model modules for the demo: ``mistaken`` (enums persist member names, the
incident's mistake) and ``fixed`` (the one-line ``values_callable`` fix). ``baseline-bridge check-app
nakamura_misaki_db.bridge.demo_app.mistaken:Base --head`` fails; ``...fixed:Base`` passes."""

MISTAKEN = "nakamura_misaki_db.bridge.demo_app.mistaken:Base"
FIXED = "nakamura_misaki_db.bridge.demo_app.fixed:Base"
