"""telemetry-build: render, hash and build the image tree."""
