// Every verb of kubectl custom, in the order help lists them.
import type { CommandSpec } from './command-spec.ts';
import { approveCommand } from './approve/command.ts';
import { checkCommand } from './check/command.ts';
import { completionCommand } from './completion/command.ts';
import { dashboardCommand } from './dashboard/command.ts';
import { describeStateCommand } from './describe-state/command.ts';
import { doctorCommand } from './doctor/command.ts';
import { freezeCommand } from './freeze/command.ts';
import { historyCommand } from './history/command.ts';
import { installCertsCommand } from './install-certs/command.ts';
import { listCommand } from './list/command.ts';
import { notifyCommand } from './notify/command.ts';
import { promoteCommand } from './promote/command.ts';
import { setStateCommand } from './set-state/command.ts';
import { unfreezeCommand } from './unfreeze/command.ts';
import { uninstallCommand } from './uninstall/command.ts';
import { versionCommand } from './version/command.ts';

export const COMMANDS: readonly CommandSpec[] = [listCommand, describeStateCommand, historyCommand, setStateCommand, promoteCommand, approveCommand, checkCommand, freezeCommand, unfreezeCommand, notifyCommand, dashboardCommand, versionCommand, doctorCommand, installCertsCommand, uninstallCommand, completionCommand];
