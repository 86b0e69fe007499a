"""Serializers: turn values into bytes and back (public names live in asyncflow.serializers)."""
