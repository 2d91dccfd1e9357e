"""Container runtime contract: config copying, start script and health checks.

The modules here are copied verbatim into every image (stdlib only, no imports from this
package) and are unit-tested on the host by running them as scripts.
"""
