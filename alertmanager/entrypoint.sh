#!/bin/sh
# Alertmanager's entrypoint in docker-compose.yml: writes its configuration (alertmanager.yml
# beside this file, with ALERT_WEBHOOK_URL as the `webhook` receiver's URL when set) to its data
# volume, the one place it may write, then runs Alertmanager with the arguments given.
# `entrypoint.sh render` only prints the configuration (make check-prometheus checks it).
set -eu
here=$(dirname "$0")

render() {
  # The URL from the environment, never through awk -v (which would read its backslashes), as a
  # YAML single-quoted scalar, in which a quote is written twice.
  awk -v q="'" '
    $0 == "    webhook_configs: []" && ENVIRON["ALERT_WEBHOOK_URL"] != "" {
      url = ENVIRON["ALERT_WEBHOOK_URL"]
      gsub(q, q q, url)
      print "    webhook_configs:"
      print "      - url: " q url q
      print "        send_resolved: true"
      next
    }
    { print }
  ' "$here/alertmanager.yml"
}

if [ "${1:-}" = render ]; then
  render
  exit 0
fi
render > /alertmanager/alertmanager.yml
exec /bin/alertmanager --config.file=/alertmanager/alertmanager.yml "$@"
