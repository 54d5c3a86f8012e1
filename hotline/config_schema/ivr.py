"""`ivr:` (menu files, numbers -> menus, IVR limits), parsed by ivr/settings.py."""

from hotline.config_schema._types import NAME, Schema, list_of, mapping_of, number, optional, strict

PROPERTIES: dict[str, Schema] = {
    "ivr": optional(
        strict(
            {
                "menus": optional(list_of(NAME)),
                "default_menu": optional(NAME),
                "numbers": optional(mapping_of(NAME, "dialled number -> menu name")),
                "confidence": number(0, 1),
                "max_steps": {"type": "integer", "minimum": 1, "maximum": 1000},
                "lookup_timeout": number(0.01, 30),
            }
        )
    ),
}
