import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPT = path.join(__dirname, '..', '..', '..', 'scripts', 'rabbitmq-cluster.sh');

/**
 * The project's three-node cluster (scripts/rabbitmq-cluster.sh: herald-c1..c3@localhost on their own
 * ports, never the machine's RabbitMQ on 5672), as the cluster scenarios drive it.
 */
export const rabbitCluster = {
  async script(...args: string[]): Promise<string> {
    const { stdout } = await run('bash', [SCRIPT, ...args], { maxBuffer: 1 << 22 });
    return stdout.trim();
  },
  /** Starts (or finds running) the three nodes; whether this call started them. */
  async start(): Promise<boolean> {
    // Already there when node 1's VM runs (a status call can time out on a busy machine).
    const before = await rabbitCluster.script('node-pid', '1').then(
      (pid) => {
        try {
          process.kill(Number(pid), 0);
          return true;
        } catch {
          return false;
        }
      },
      () => false,
    );
    await rabbitCluster.script('start');
    return !before;
  },
  stop: () => rabbitCluster.script('stop'),
  /** Each node's AMQP URL, node 1 first. */
  async urls(): Promise<string[]> {
    return (await rabbitCluster.script('urls')).split(',');
  },
  /** The node (1..3) leading a quorum queue, and the nodes holding a replica and online. */
  async queueInfo(
    queue: string,
    askNode = 1,
  ): Promise<{ leader: number; members: number[]; online: number[] }> {
    const out = await rabbitCluster.script(
      'ctl',
      String(askNode),
      '-q',
      'list_queues',
      'name',
      'leader',
      'members',
      'online',
      '--no-table-headers',
    );
    const line = out.split('\n').find((l) => l.split('\t')[0] === queue);
    if (!line) throw new Error(`queue ${queue} not found on the cluster`);
    const [, leader, members, online] = line.split('\t');
    const nodesIn = (s = '') => [...s.matchAll(/herald-c(\d)@/g)].map((m) => Number(m[1]));
    return { leader: nodesIn(leader)[0] ?? 0, members: nodesIn(members), online: nodesIn(online) };
  },
  /** SIGKILL of the node's Erlang VM: no goodbye to its clients or peers. */
  async kill(node: number): Promise<void> {
    const pid = Number(await rabbitCluster.script('node-pid', String(node)));
    process.kill(pid, 'SIGKILL');
  },
  /** A clean stop (rabbitmqctl stop). */
  stopNode: (node: number) => rabbitCluster.script('node-stop', String(node)),
  /** Starts the node again on its data; it rejoins the cluster. */
  startNode: (node: number) => rabbitCluster.script('node-start', String(node)),
};
