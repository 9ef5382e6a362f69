// POST …/customresources/NAME/check (`kubectl custom check NAME`): each check
// of the next move measured once, now, and answered. Authorized as `create`
// on customresources/check (checked before it gets here). Nothing is
// recorded: a move counts only the runs the backend measures on their
// schedule (controllers/check-runner.ts), so asking again and again cannot
// hurry a gate.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CheckReport } from '../../../../api/src/checks.ts';
import { CHECK_REPORT_KIND, GROUP_VERSION } from '../../../../api/src/names.ts';
import type { StoredObject } from '../../../../api/src/types.ts';
import type { Clock } from '../../clock.ts';
import type { CheckRunnerDeps } from '../../controllers/check-runner.ts';
import { readJsonBody } from '../../http/body.ts';
import { negotiate, PLAIN_TARGETS } from '../../http/negotiate.ts';
import { writeObject } from '../../http/respond.ts';
import type { RequestInfo } from '../../request/request-info.ts';
import { checkSourceName, templateVars } from '../../state/check-gates.ts';
import { SPEC_ONLY, type GateSources } from '../../state/gate-sources.ts';
import { nextStateOf, positionOf } from '../../state/position.ts';
import type { SubresourceHandler } from './handlers.ts';

export interface CheckRestDeps {
  read(namespace: string, name: string): StoredObject;
  gates?: GateSources;
  measure: CheckRunnerDeps['measure'];
  clock: Clock;
}

/** The report of the next move's checks of `obj`, each measured once. */
export async function checkReport(obj: StoredObject, d: CheckRestDeps): Promise<CheckReport> {
  const { name, namespace } = obj.metadata;
  const pos = positionOf(obj.spec, obj.status, obj.metadata.creationTimestamp);
  const to = nextStateOf(obj.spec, pos);
  const base: CheckReport = { kind: CHECK_REPORT_KIND, apiVersion: GROUP_VERSION, metadata: { name, namespace }, results: [], passed: true };
  if (to === undefined) return base;
  const checks = (d.gates ?? SPEC_ONLY).effective(obj).checks.get(to) ?? [];
  const vars = templateVars(obj, pos.state, to);
  const results = await Promise.all(
    checks.map(async (c) => {
      const measurement = await d.measure(c, vars, () => d.clock.now());
      return {
        name: c.check.name,
        source: checkSourceName(c.source),
        provider: c.check.prometheus ? ('prometheus' as const) : ('http' as const),
        successCondition: c.check.successCondition,
        ...(c.check.failureCondition !== undefined ? { failureCondition: c.check.failureCondition } : {}),
        measurement,
      };
    }),
  );
  return { ...base, from: pos.state, to, results, passed: results.every((r) => r.measurement.phase === 'Successful') };
}

export function checkRest(d: CheckRestDeps): SubresourceHandler {
  return {
    verbs: ['create'],
    // `fresh`: the object as a GET without resourceVersion reads it (fresh-gates.ts's withFreshObject), else the cached one.
    async handle(req: IncomingMessage, res: ServerResponse, info: RequestInfo, _user, _url, fresh?: StoredObject) {
      const target = negotiate(req.headers.accept, PLAIN_TARGETS);
      // The body says nothing (kubectl sends {}); it is read so the connection can be reused.
      await readJsonBody(req).catch(() => undefined);
      writeObject(res, 200, await checkReport(fresh ?? d.read(info.namespace, info.name), d), target);
    },
  };
}
