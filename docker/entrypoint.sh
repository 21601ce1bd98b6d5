#!/bin/sh
# Container entrypoint: apply migrations (unless DUNBOT_MIGRATE=0), then run the command
# (default: `dunbot serve --host 0.0.0.0`) as PID 1 so it receives SIGTERM directly.
set -eu
if [ "${DUNBOT_MIGRATE:-1}" != "0" ]; then
  dunbot db upgrade
fi
exec "$@"
