# Deployment checks, included from the top-level Makefile (include tests/deploy/deploy.mk);
# paths are relative to the top of the repository, where make runs.
#
#   make deploy-check   render deploy/kubernetes, validate it against the Kubernetes API
#                       schemas and accessmon's own rules, check deploy/Dockerfile and build
#                       its binary from the image's build context (tests/deploy/run.sh)
#
# Needs node 18+ and npm (the validator's packages come from package-lock.json, into
# tests/deploy/node_modules) and kubectl 1.20+. KUBECTL, KUBECTL_OLD and
# DEPLOY_SKIP_BUILD are passed on to run.sh from the environment or the command line.

DEPLOY_CHECK_DIR := tests/deploy

.PHONY: deploy-check deploy-check-deps

# npm ci installs exactly what the lock file says; again only when it changes.
$(DEPLOY_CHECK_DIR)/node_modules/.package-lock.json: $(DEPLOY_CHECK_DIR)/package.json \
		$(DEPLOY_CHECK_DIR)/package-lock.json
	$(call msg,NPM,$(DEPLOY_CHECK_DIR)/node_modules)
	$(Q)cd $(DEPLOY_CHECK_DIR) && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	$(Q)touch $@

deploy-check-deps: $(DEPLOY_CHECK_DIR)/node_modules/.package-lock.json

# make exports variables given on its command line, so KUBECTL=... reaches run.sh.
deploy-check: deploy-check-deps
	$(Q)bash $(DEPLOY_CHECK_DIR)/run.sh
