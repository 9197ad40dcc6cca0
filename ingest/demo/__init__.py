"""The bundled demo: openclipart data, frozen towers, three trained projection-head models and the demo store."""
