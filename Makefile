# `sam build` (Metadata: BuildMethod: makefile) runs `make build-<LogicalId>` once per function with ARTIFACTS_DIR set.
# All five functions are the same Native AOT binary (they differ only by environment): the first target publishes it
# into a shared directory, every target copies it. Handler in template.yaml = the binary's name; the Lambda Web
# Adapter layer's /opt/bootstrap execs $LAMBDA_TASK_ROOT/$_HANDLER.
PUBLISH_DIR ?= .local/lambda/publish
BINARY := Molecule.Api
FUNCTIONS := ApiFunction OperationStepsFunction OrphanSweeperFunction InstanceReconcilerFunction MigrateFunction

.PHONY: publish $(addprefix build-,$(FUNCTIONS))

publish:
	infra/sam/publish-aot.sh $(PUBLISH_DIR)

$(addprefix build-,$(FUNCTIONS)): publish
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)" >&2; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)"
	cp -p $(PUBLISH_DIR)/$(BINARY) "$(ARTIFACTS_DIR)/$(BINARY)"
