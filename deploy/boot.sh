#!/bin/bash
# Boot one GAS instance on Amazon Linux 2023: install the release unpacked in
# /opt/gas/src, write /etc/gas/gas.env, start the role's systemd units, and tell
# CloudFormation how it went. The launch templates of deploy/gas.yaml unpack the
# release and run this with, in the environment:
#   GAS_ROLE            web | annotator | daemons
#   AWS_REGION, STACK_NAME, SIGNAL_RESOURCE   where to send the cfn-signal
#   SETTINGS_PARAMETER  SSM parameter: the non-secret settings, one VAR=value a line
#   DATABASE_SECRET     secret: the RDS account (JSON with host, port, dbname) or a DATABASE_URL
#   SECRET_KEY_SECRET   web: secret holding GAS_SECRET_KEY
#   STRIPE_SECRET       web, may be empty: secret, JSON with the STRIPE_* settings
#   ARTIFACT_BUCKET     annotator: the bucket holding the published reference index
set -Eeuo pipefail

signal() {
  /opt/aws/bin/cfn-signal --exit-code "$1" --stack "$STACK_NAME" \
    --resource "$SIGNAL_RESOURCE" --region "$AWS_REGION" || true
}

secret() {
  aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" \
    --query SecretString --output text
}

# The RDS secret is JSON (username, password, host, port, dbname); an existing
# database's secret is its URL as it stands.
database_url() {
  python3 -c '
import json, sys, urllib.parse
text = sys.stdin.read().strip()
try:
    account = json.loads(text)
except ValueError:
    print("DATABASE_URL=" + text)
    raise SystemExit
user, password = (urllib.parse.quote(str(account[k]), safe="") for k in ("username", "password"))
host, port, name = account["host"], account.get("port", 5432), account.get("dbname", "gas")
print(f"DATABASE_URL=postgresql://{user}:{password}@{host}:{port}/{name}")
'
}

stripe_settings() {
  python3 -c '
import json, sys
for name, value in json.load(sys.stdin).items():
    if name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_ID"):
        print(f"{name}={value}")
'
}

# The reference index as published once (`gas reference publish`): fetched and checked
# against its sha256, instead of every new annotator downloading the public data and
# building it. With none published for this release, or one refused, the annotator
# unit's ExecStartPre (`gas reference install`) builds it, as it says in the log.
fetch_reference() {
  install -d -o gas -g gas -m 750 /var/lib/gas/reference
  if ! runuser -u gas -- env GAS_DATA_DIR=/var/lib/gas GAS_REFERENCE_DIR=/var/lib/gas/reference \
      GAS_AWS_REGION="$AWS_REGION" /opt/gas/venv/bin/gas reference fetch --bucket "$ARTIFACT_BUCKET"; then
    echo "the published reference could not be used: the annotator builds its own" >&2
  fi
}

# The CloudWatch agent's configuration (deploy/cloudwatch-agent.json on stdin) for this
# stack: its log groups are /<stack>/<role>, as deploy/gas.yaml names them.
agent_config() {
  sed "s|@STACK_NAME@|$STACK_NAME|g"
}

# Logs: each unit appends its JSON lines to /var/log/gas/<role>.log; the CloudWatch agent
# ships them to the role's log group, logrotate keeps the local copies small.
ship_logs() {
  dnf install -y -q amazon-cloudwatch-agent logrotate
  install -d -m 755 /var/log/gas
  install -m 644 /opt/gas/src/deploy/logrotate-gas.conf /etc/logrotate.d/gas
  agent_config < /opt/gas/src/deploy/cloudwatch-agent.json \
    > /opt/aws/amazon-cloudwatch-agent/etc/gas.json
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \
    -c file:/opt/aws/amazon-cloudwatch-agent/etc/gas.json
}

main() {
  dnf install -y -q python3.11 python3.11-pip aws-cfn-bootstrap
  trap 'signal 1' ERR

  id gas >/dev/null 2>&1 || useradd --system --home-dir /var/lib/gas --shell /sbin/nologin gas
  install -d -o gas -g gas -m 750 /var/lib/gas
  python3.11 -m venv /opt/gas/venv
  # The release's locked dependencies, each file checked against its hash (`make lock`),
  # then GAS itself with nothing resolved or fetched again: every boot of a release
  # installs the same bytes.
  /opt/gas/venv/bin/pip install --quiet --require-hashes --no-deps -r /opt/gas/src/deploy/requirements.lock
  /opt/gas/venv/bin/pip install --quiet --no-deps --no-build-isolation /opt/gas/src

  install -d -m 755 /etc/gas
  install -m 644 /opt/gas/src/deploy/hypercorn.toml /etc/gas/hypercorn.toml
  install -m 644 /opt/gas/src/deploy/systemd/*.service /etc/systemd/system/

  # Secrets: readable by root only; systemd reads the file before it drops to gas.
  umask 077
  {
    aws ssm get-parameter --region "$AWS_REGION" --name "$SETTINGS_PARAMETER" \
      --query Parameter.Value --output text
    secret "$DATABASE_SECRET" | database_url
    if [ "$GAS_ROLE" = web ]; then
      echo "GAS_SECRET_KEY=$(secret "$SECRET_KEY_SECRET")"
      if [ -n "${STRIPE_SECRET:-}" ]; then secret "$STRIPE_SECRET" | stripe_settings; fi
    fi
    if [ "$GAS_ROLE" = annotator ]; then echo "GAS_ANNOTATOR_PROCESSES=$(nproc)"; fi
  } > /etc/gas/gas.env.new
  mv /etc/gas/gas.env.new /etc/gas/gas.env
  umask 022
  systemctl daemon-reload
  ship_logs

  case "$GAS_ROLE" in
    web)
      systemctl enable --now gas-web.service
      # Signalled only once it is ready (/health: the database answers), not merely
      # alive (/health/live, the load balancer's check): a release that cannot reach
      # the database fails its rolling update instead of replacing every instance.
      for _ in $(seq 60); do
        curl -fsS http://127.0.0.1:8000/health >/dev/null && break
        sleep 5
      done
      curl -fsS http://127.0.0.1:8000/health >/dev/null
      ;;
    annotator)
      fetch_reference
      systemctl enable --now gas-annotator.service
      ;;
    daemons)
      systemctl enable --now gas-daemon@notify.service gas-daemon@archive.service \
        gas-daemon@restore.service gas-daemon@thaw.service
      ;;
    *)
      echo "unknown GAS_ROLE: $GAS_ROLE" >&2
      false
      ;;
  esac
  signal 0
}

# Sourced (as the tests do), it only defines the functions above.
if ! (return 0 2>/dev/null); then
  main "$@"
fi
