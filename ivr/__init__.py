"""The IVR core: menus as data, the menu checker and the interpreter (pure, injected clock)."""
