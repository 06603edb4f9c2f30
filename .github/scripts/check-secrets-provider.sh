#!/usr/bin/env bash
# Refuses to run Pulumi on a stack whose secrets are not kept by that stack's own Key Vault key:
# PULUMI_SECRETS_PROVIDER, which the workflows build from vars.PULUMI_SECRETS_VAULT and the stack they run,
# azurekeyvault://<vault>.vault.azure.net/keys/pulumi-<stack> (one key per stack, created by the bootstrap:
# docs/bootstrap.md). A provider naming another stack's key is refused too.
#
#   check-secrets-provider.sh STACK [PROJECT_DIR]
#
# Where Pulumi takes the provider from (pulumi/pulumi pkg/cmd/pulumi/stack/secrets.go GetSecretsManager):
# the stack file's `secretsprovider` when it has one, else the secrets manager recorded in the state (the
# DIY backend's fallback). Without either it would fall back to a passphrase, which CI does not have.
# `pulumi stack export` (without --show-secrets) prints the state as stored, secrets still encrypted; it
# is read here, never printed.
set -euo pipefail

stack=${1:?usage: check-secrets-provider.sh STACK [PROJECT_DIR]}
project=${2:-.}
expected=${PULUMI_SECRETS_PROVIDER:-}

if ! [[ "$expected" =~ ^azurekeyvault://[A-Za-z0-9-]+\.vault\.azure\.net/keys/pulumi-([A-Za-z0-9-]+)$ ]]; then
  echo "::error::PULUMI_SECRETS_PROVIDER must be azurekeyvault://<vault>.vault.azure.net/keys/pulumi-$stack (is vars.PULUMI_SECRETS_VAULT set?), not '$expected'"
  exit 1
fi
if [ "${BASH_REMATCH[1]}" != "$stack" ]; then
  echo "::error::PULUMI_SECRETS_PROVIDER $expected is the key of stack ${BASH_REMATCH[1]}, not pulumi-$stack: every stack has its own key"
  exit 1
fi

stack_file="$project/Pulumi.$stack.yaml"
if [ ! -f "$stack_file" ]; then
  echo "::error::$stack_file does not exist"
  exit 1
fi
named=$(sed -n -E 's/^secretsprovider:[[:space:]]*["'\'']?([^"'\'' ]*)["'\'']?[[:space:]]*$/\1/p' "$stack_file")
if [ -n "$named" ]; then
  if [ "$named" != "$expected" ]; then
    echo "::error::$stack_file names the secrets provider $named, not $expected"
    exit 1
  fi
  echo "stack $stack: secrets provider $named (stack file)"
  exit 0
fi

state=$(cd "$project" && pulumi stack export --stack "$stack")
recorded=$(jq -r '.deployment.secrets_providers | select(.type == "cloud") | .state.url // empty' <<< "$state")
if [ "$recorded" != "$expected" ]; then
  echo "::error::the state of stack $stack records the secrets provider '${recorded:-none}', not $expected"
  exit 1
fi
echo "stack $stack: secrets provider $recorded (state)"
