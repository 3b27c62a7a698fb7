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
set -Eeuo pipefail

signal() {
  /opt/aws/bin/cfn-signal --exit-code "$1" --stack "$STACK_NAME" \
    --resource "$SIGNAL_RESOURCE" --region "$AWS_REGION" || true
}

secret() {
  aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" \
    --query SecretString --output text
}

# RDS's certificate authorities for this region, from AWS's trust store (over HTTPS,
# checked against the system's CAs): fetched at each boot, so that a CA RDS adds is
# trusted without a new release. Readable by the gas user, which connects.
RDS_CA_BUNDLE=/etc/gas/rds-ca-bundle.pem
rds_ca_bundle() {
  curl -fsS --proto =https --retry 5 -o "$RDS_CA_BUNDLE.new" \
    "https://truststore.pki.rds.amazonaws.com/$AWS_REGION/$AWS_REGION-bundle.pem"
  grep -q -- "-----BEGIN CERTIFICATE-----" "$RDS_CA_BUNDLE.new"
  chmod 644 "$RDS_CA_BUNDLE.new"
  mv "$RDS_CA_BUNDLE.new" "$RDS_CA_BUNDLE"
}

# The RDS secret is JSON (username, password, host, port, dbname): its URL verifies the
# server's certificate and host name against RDS's CAs (asyncpg's default, "prefer",
# checks neither). An existing database's secret is its URL as it stands.
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
tls = urllib.parse.urlencode({"sslmode": "verify-full", "sslrootcert": sys.argv[1]}, safe="/")
print(f"DATABASE_URL=postgresql://{user}:{password}@{host}:{port}/{name}?{tls}")
' "$RDS_CA_BUNDLE"
}

stripe_settings() {
  python3 -c '
import json, sys
for name, value in json.load(sys.stdin).items():
    if name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRICE_ID"):
        print(f"{name}={value}")
'
}

main() {
  dnf install -y -q python3.11 python3.11-pip aws-cfn-bootstrap
  trap 'signal 1' ERR

  id gas >/dev/null 2>&1 || useradd --system --home-dir /var/lib/gas --shell /sbin/nologin gas
  install -d -o gas -g gas -m 750 /var/lib/gas
  python3.11 -m venv /opt/gas/venv
  /opt/gas/venv/bin/pip install --quiet --upgrade pip
  /opt/gas/venv/bin/pip install --quiet /opt/gas/src

  install -d -m 755 /etc/gas
  install -m 644 /opt/gas/src/deploy/hypercorn.toml /etc/gas/hypercorn.toml
  install -m 644 /opt/gas/src/deploy/systemd/*.service /etc/systemd/system/
  rds_ca_bundle

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

  case "$GAS_ROLE" in
    web)
      systemctl enable --now gas-web.service
      # In service only once it answers as the load balancer will ask it.
      for _ in $(seq 60); do
        curl -fsS http://127.0.0.1:8000/health >/dev/null && break
        sleep 5
      done
      curl -fsS http://127.0.0.1:8000/health >/dev/null
      ;;
    annotator)
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
