import { createHash } from 'node:crypto';
import type { Attributes, SpanRecord } from '../../spans/model.ts';
import { serviceName } from '../../spans/model.ts';

/**
 * The distinct resources of a write, each stored once in `trace_resources` (a span row refers to
 * it): a process sends the same resource with every span, and hundreds of bytes of
 * `process.command_args` and `host.*` a span would cost the store more than the span itself. A
 * resource is known by a hash of its JSON (as sent: the same process always sends its attributes in
 * the same order), the unique key of its row.
 */
export interface ResourceGroup {
  readonly hash: string;
  readonly json: string;
  readonly attributes: Attributes;
  readonly service: string;
  /** The latest start among the write's spans of this resource (see `last_start_us`). */
  lastStartUs: number;
  /** Its row's id, once the store has it. */
  id: number;
}

/** Groups the resources of `spans`: `of(span)` is the group of a span's resource. */
export function groupResources(spans: readonly SpanRecord[]): {
  readonly groups: readonly ResourceGroup[];
  of(span: SpanRecord): ResourceGroup;
} {
  // A decoder hands every span of a resource the same object: hashing once per object, not per span.
  const byObject = new Map<Attributes, ResourceGroup>();
  const byHash = new Map<string, ResourceGroup>();
  for (const span of spans) {
    let group = byObject.get(span.resource);
    if (group === undefined) {
      const json = JSON.stringify(span.resource);
      const hash = createHash('sha256').update(json).digest('base64url');
      group = byHash.get(hash);
      if (group === undefined) {
        group = { hash, json, attributes: span.resource, service: serviceName(span.resource), lastStartUs: span.startUs, id: 0 };
        byHash.set(hash, group);
      }
      byObject.set(span.resource, group);
    }
    if (span.startUs > group.lastStartUs) group.lastStartUs = span.startUs;
  }
  return { groups: [...byHash.values()], of: (span) => byObject.get(span.resource)! };
}

/**
 * Deletes the resources no span refers to any more, without an index on the spans' resource (one
 * more index every span would pay for): a resource whose latest span started before every span
 * still stored has none left. Retention deletes the oldest spans first, so this finds every
 * resource it emptied; one whose spans were all replaced by spans of another resource stays until
 * its time passes. `resources` and `spans` are the qualified tables.
 */
export function deleteUnusedResourcesSql(resources: string, spans: string): string {
  return `DELETE FROM ${resources} WHERE NOT EXISTS (SELECT 1 FROM ${spans} AS s WHERE s.start_us <= ${resources}.last_start_us)`;
}
