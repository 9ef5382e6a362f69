// Events are written by one sender in the background, for every request's
// changes (client/src/event-recorder.ts): it must not run in the scope of the
// request that happened to start it, or that request's end would cancel the
// writes of everyone's Events (http/request-scope.ts).
import { ApiEventRecorder, type EventSubject } from '../../../client/src/event-recorder.ts';
import { detached } from './request-scope.ts';

export class DetachedEventRecorder extends ApiEventRecorder {
  override record(obj: EventSubject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    detached(() => super.record(obj, type, reason, message));
  }
}
