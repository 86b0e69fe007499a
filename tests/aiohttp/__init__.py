"""Tests of asyncflow.contrib.aiohttp: a real aiohttp server on 127.0.0.1, driven over HTTP."""
