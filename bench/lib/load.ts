import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST, which } from './procs';

/** One kind of request; the key index `i` goes between `prefix` and `suffix` when `keyed`. */
export interface RequestSpec {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly prefix: string;
  readonly suffix?: string;
  readonly keyed: boolean;
  /** A literal body, or `{ bytes: n }` for n bytes of 'x'. */
  readonly body?: string | { bytes: number };
  readonly contentType?: string;
}

export interface LoadSpec {
  readonly port: number;
  readonly headers: Record<string, string>;
  readonly read: RequestSpec;
  readonly write?: RequestSpec;
  /** Share of requests that are `write`, in percent. */
  readonly writePct: number;
  readonly keys: number;
  readonly durationS: number;
  readonly connections: number;
}

export interface LoadResult {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  /** Socket errors, timeouts and non-2xx answers. */
  readonly errors: number;
  readonly tool: 'wrk' | 'autocannon';
}

export const loadTool = (): 'wrk' | 'autocannon' => (which('wrk') ? 'wrk' : 'autocannon');

const luaString = (text: string) => {
  let level = '';
  while (text.includes(`]${level}]`)) level += '=';
  return `[${level}[${text}]${level}]`;
};

const luaBody = (body: RequestSpec['body']) =>
  body === undefined ? 'nil' : typeof body === 'string' ? luaString(body) : `string.rep("x", ${body.bytes})`;

function luaScript(spec: LoadSpec): string {
  const headers = (extra?: string) => {
    const all: Record<string, string> = { ...spec.headers, ...(extra ? { 'Content-Type': extra } : {}) };
    return `{${Object.entries(all).map(([k, v]) => `[ ${luaString(k)} ] = ${luaString(v)}`).join(', ')}}`;
  };
  const req = (name: string, r: RequestSpec) => `
local ${name}Headers = ${headers(r.contentType)}
local ${name}Body = ${luaBody(r.body)}
local function ${name}()
  local path = ${luaString(r.prefix)}${r.keyed ? ` .. math.random(0, ${spec.keys - 1})` : ''} .. ${luaString(r.suffix ?? '')}
  return wrk.format(${luaString(r.method)}, path, ${name}Headers, ${name}Body)
end`;
  return `${req('readReq', spec.read)}
${spec.write ? req('writeReq', spec.write) : ''}
local writePct = ${spec.write ? spec.writePct : 0}
local bad = 0
local threads = {}
setup = function(thread) table.insert(threads, thread) end
init = function(args) math.randomseed(os.time() + math.floor(os.clock() * 1e6)) end
request = function()
  ${spec.write ? 'if writePct >= 100 or (writePct > 0 and math.random(100) <= writePct) then return writeReq() end' : ''}
  return readReq()
end
response = function(status, headers, body)
  if status >= 300 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  local errs = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format("\\nRESULT %d %d %d %f %f\\n", summary.requests, summary.duration, errs, latency:percentile(50), latency:percentile(99)))
end
`;
}

function runWrk(spec: LoadSpec, workDir: string): Promise<LoadResult> {
  const script = join(workDir, `load-${spec.port}-${Date.now()}.lua`);
  writeFileSync(script, luaScript(spec));
  const threads = Math.min(2, spec.connections);
  const args = [`-t${threads}`, `-c${spec.connections}`, `-d${spec.durationS}s`, '--timeout', '10s', '-s', script, `http://${HOST}:${spec.port}/`];
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (spec.durationS + 30) * 1000);
    child.on('exit', () => {
      clearTimeout(timer);
      const match = /RESULT (\d+) (\d+) (\d+) ([\d.]+) ([\d.]+)/.exec(out);
      if (!match) return reject(new Error(`wrk gave no result: ${out.slice(0, 500)}`));
      const [, requests, durationUs, errors, p50, p99] = match;
      resolve({
        requests: Number(requests),
        rps: Number(requests) / (Number(durationUs) / 1e6),
        errors: Number(errors),
        p50Ms: Number(p50) / 1000,
        p99Ms: Number(p99) / 1000,
        tool: 'wrk',
      });
    });
  });
}

/** autocannon in its own process (never in the process that runs a server). */
function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const runner = join(__dirname, 'autocannon-runner.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), (spec.durationS + 30) * 1000);
    child.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve({ ...(JSON.parse(out.trim().split('\n').pop()!) as Omit<LoadResult, 'tool'>), tool: 'autocannon' });
      } catch {
        reject(new Error(`autocannon gave no result: ${out.slice(0, 500)}`));
      }
    });
  });
}

export function runLoad(spec: LoadSpec, workDir: string): Promise<LoadResult> {
  return loadTool() === 'wrk' ? runWrk(spec, workDir) : runAutocannon(spec);
}
