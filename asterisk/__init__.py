"""The Asterisk adapter: AMI control and events, FastAGI IVR, agents on PJSIP phones, recordings.

Layers: sans-io framing (`ami_parser`, `agi_parser`), asyncio transports (`ami_client`,
`fastagi`), the event table and call control (`events`, `control`), the IVR channel over
FastAGI (`agi_channel`), the configuration generator (`confgen`), and the one entry point
the server wires in (`service.cleanup_ctx`, or `service.running` around an `AsteriskService`).
"""
