import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClient, ErrorCodes, silentLogger, ValidationError } from 'pilotlight';
import { createDashboard, type DashboardOptions } from '../src/index.ts';
import { tempStore } from './http-support.ts';

const store = tempStore();

/** createDashboard(options) throws a ValidationError whose message matches `message`. */
function refuses(options: unknown, message: RegExp): void {
  assert.throws(
    () => createDashboard(options as DashboardOptions),
    (error: unknown) => {
      assert.ok(error instanceof ValidationError, String(error));
      assert.equal(error.code, ErrorCodes.VALIDATION);
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('createDashboard() options', () => {
  it('takes a store or a client, not both and not neither', () => {
    refuses(undefined, /^createDashboard\(\) takes an options object with a store or a client; received undefined$/);
    refuses(
      {},
      /^createDashboard\(\) needs options\.store \(a Store, e\.g\. createSqliteStore\(\)\) or options\.client \(your Client\); received store undefined$/,
    );
    refuses({ store: 'pilotlight.db' }, /received store "pilotlight\.db"/);
    refuses(
      { store, client: createClient({ store, logger: silentLogger }) },
      /takes options\.store or options\.client, not both: pass only the client/,
    );
    refuses({ client: {} }, /options\.client must be a Client \(createClient\(\) from 'pilotlight'\); received an object/);
  });

  it('checks basePath, and says how to fix it', () => {
    for (const basePath of ['/admin/jobs', '/a', '', '/a.b/c_d/e-f~g'])
      assert.doesNotThrow(() => createDashboard({ store, basePath }), basePath);
    refuses(
      { store, basePath: '/admin/jobs/' },
      /options\.basePath must be a URL path; received "\/admin\/jobs\/": drop the trailing '\/' \("\/admin\/jobs"\)$/,
    );
    for (const basePath of ['admin', '/', '//admin', '/admin jobs', '/a/../b', '/a/./b', '/<script>', 'https://x', 42]) {
      refuses({ store, basePath }, /options\.basePath must be a URL path; received .*: (pass ''|drop the trailing)/);
    }
  });

  it('checks readOnly, authorize, redact and logger', () => {
    refuses({ store, readOnly: 'yes' }, /^createDashboard\(\) options\.readOnly must be true or false; received "yes"$/);
    refuses(
      { store, authorize: true },
      /^createDashboard\(\) options\.authorize must be a function; received true: pass a function or leave it out$/,
    );
    refuses({ store, redact: 'hide' }, /options\.redact must be a function; received "hide"/);
    refuses({ store, logger: console.log }, /options\.logger must be a Logger \(\{ debug, info, warn, error \}\); received a function/);
  });

  it('names an option it does not know, and lists those it does', () => {
    refuses(
      { store, basepath: '/x' },
      /^createDashboard\(\) has no option 'basepath': the options are store, client, basePath, authorize, readOnly, redact, logger, traces$/,
    );
  });

  it('returns a handler with close()', async () => {
    const dashboard = createDashboard({ store, client: undefined, basePath: undefined, readOnly: undefined });
    assert.equal(typeof dashboard, 'function');
    await dashboard.close();
  });
});
