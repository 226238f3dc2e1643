import type pg from 'pg';

export interface ListenerConnection {
  readonly client: pg.ClientBase;
  /** Ends the connection (a pooled one is destroyed rather than handed back: it is LISTENing). */
  release(destroy: boolean): void | Promise<void>;
}

export interface WakeListenerOptions {
  readonly channel: string;
  readonly connect: () => Promise<ListenerConnection>;
  /** A NOTIFY arrived on the channel (from any process); its payload is the queue. */
  readonly onNotification: (queue: string | undefined) => void;
  /** The listener is back after losing its connection: notifications sent meanwhile were lost. */
  readonly onReconnected: () => void;
}

const FIRST_RETRY_MS = 100;
const MAX_RETRY_MS = 5_000;

/**
 * Holds one dedicated connection that LISTENs on the store's channel. LISTEN needs a session of
 * its own: a pooled connection goes back to the pool, and its LISTEN with it. If the connection
 * drops (server restart, pg_terminate_backend, network), it reconnects by itself, with a backoff
 * doubling from 100 ms to 5 s, until `stop()`.
 */
export class WakeListener {
  readonly #options: WakeListenerOptions;
  #connection: ListenerConnection | undefined;
  #connecting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryDelay = FIRST_RETRY_MS;
  #stopped = false;

  constructor(options: WakeListenerOptions) {
    this.#options = options;
  }

  /** Connects and LISTENs; fails if the first connection fails (the store is then not created). */
  async start(): Promise<void> {
    this.#connecting = this.#connect();
    try {
      await this.#connecting;
    } finally {
      this.#connecting = undefined;
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#connecting?.catch(() => {});
    await this.#drop();
  }

  /** Whether a connection is currently listening (for tests and health checks). */
  get listening(): boolean {
    return this.#connection !== undefined;
  }

  async #connect(): Promise<void> {
    const connection = await this.#options.connect();
    const { client } = connection;
    if (this.#stopped) {
      await connection.release(true);
      return;
    }
    // A dropped connection emits 'error' and then 'end' (or only 'end'): handle the first one.
    const onLost = () => {
      if (this.#connection !== connection) return;
      void this.#drop().then(() => this.#scheduleReconnect());
    };
    client.on('notification', (message) => {
      if (message.channel === this.#options.channel) this.#options.onNotification(message.payload || undefined);
    });
    client.on('error', onLost);
    client.on('end', onLost);
    this.#connection = connection;
    try {
      await client.query(`LISTEN "${this.#options.channel}"`);
    } catch (error) {
      await this.#drop();
      throw error;
    }
  }

  async #drop(): Promise<void> {
    const connection = this.#connection;
    if (!connection) return;
    this.#connection = undefined;
    try {
      await connection.release(true);
    } catch {
      // already gone
    }
  }

  #scheduleReconnect(): void {
    if (this.#stopped || this.#timer) return;
    const delay = this.#retryDelay;
    this.#retryDelay = Math.min(this.#retryDelay * 2, MAX_RETRY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.#connecting = this.#connect();
      this.#connecting.then(
        () => {
          this.#connecting = undefined;
          if (this.#stopped || !this.#connection) return;
          this.#retryDelay = FIRST_RETRY_MS;
          this.#options.onReconnected();
        },
        () => {
          this.#connecting = undefined;
          this.#scheduleReconnect();
        },
      );
    }, delay);
  }
}
