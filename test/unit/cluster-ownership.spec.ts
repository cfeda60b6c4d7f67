import { Members } from '../../src/cluster/rendezvous';
import { AnswerStatus, decodeAnswer, decodeAnswers, decodeBatch, decodeForwarded, encodeAnswers, encodeBatch, encodeForwarded, encodeReply, encodeStatus } from '../../src/cluster/forwarded';
import { CacheCommand } from '../../src/domain';
import { CommandFailedError, Reply } from '../../src/entities/cache-entity';
import { JournalContendedError, JournalUnavailableError } from '../../src/journal/journal';
import { encodeEntityId } from '../../src/journal/keys';

/** Placement by rendezvous hashing, and the wire form of forwarded commands and replies. */
describe('rendezvous placement', () => {
  const ids = ['node-a', 'node-b', 'node-c'];
  const refs = Array.from({ length: 3000 }, (_, i) => ({ org: `org${i % 7}`, name: `cache-${i}` }));

  it('spreads caches evenly and every node computes the same owner whatever the order it lists the members in', () => {
    const members = new Members(ids);
    const reordered = new Members([...ids].reverse());
    const counts = new Map<string, number>();
    for (const ref of refs) {
      const owner = members.ownerOf(ref)!;
      expect(reordered.ownerOf(ref)).toBe(owner);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    for (const id of ids) expect(counts.get(id)).toBeGreaterThan(refs.length / 3 - 150);
  });

  it('a member leaving moves only its own caches; one joining takes caches only for itself', () => {
    const three = new Members(ids);
    const two = new Members(['node-a', 'node-c']);
    const four = new Members([...ids, 'node-d']);
    let moved = 0;
    for (const ref of refs) {
      const before = three.ownerOf(ref);
      if (before !== 'node-b') expect(two.ownerOf(ref)).toBe(before);
      else moved++;
      const after = four.ownerOf(ref);
      if (after !== 'node-d') expect(after).toBe(before);
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('tells (org, cache) pairs apart that concatenate alike, and has no owner without members', () => {
    const members = new Members(ids);
    const spread = new Set(Array.from({ length: 64 }, (_, i) => members.ownerOf({ org: `a${i}`, name: 'b' })));
    expect(spread.size).toBeGreaterThan(1);
    expect(new Members([]).ownerOf({ org: 'a', name: 'b' })).toBeUndefined();
  });
});

describe('forwarded commands and replies', () => {
  const ref = { org: 'acme', name: 'c' };

  it('carries commands with bytes and bigints as they are (no JSON), and refuses what it cannot read', () => {
    const commands: CacheCommand[] = [
      { type: 'SetValue', key: 'k', value: new Uint8Array([0, 255, 1]), ttlSeconds: 5, by: 'u', device: null },
      { type: 'Increment', key: 'n', amount: -(2n ** 63n), by: 'u' },
      { type: 'ApplyOperations', ops: [{ op: 'incrBy', key: 'n', amount: 9_007_199_254_740_993n }, { op: 'set', key: 'x', value: Buffer.from('v'), expiry: { kind: 'keep' }, when: 'absent' }], watch: [{ key: 'x', version: null }], by: 'u' },
    ];
    for (const command of commands) {
      const decoded = decodeForwarded(encodeForwarded(ref, command, 1000))!;
      expect(decoded).toEqual({ ref, command, quotaLimit: 1000 });
    }
    expect(decodeForwarded(encodeForwarded(ref, commands[0], undefined))!.quotaLimit).toBeUndefined();
    expect(decodeForwarded(Buffer.from('not msgpack at all \xc1'))).toBeUndefined();
    expect(decodeForwarded(encodeStatus(AnswerStatus.Gone))).toBeUndefined();
  });

  it('answers the owner\'s reply: envelopes with their seq and offset, results, and each kind of error as its class', () => {
    const event = { type: 'Set' as const, at: 1, by: 'u', device: null, key: 'k', value: new Uint8Array([7]), expiresAt: 0 };
    const ok: Reply = { ok: true, envelopes: [{ ref, entityId: encodeEntityId(ref), seq: 3, offset: 4096, event }], results: [{ ok: true, value: 12n }, { ok: false, error: { code: 'NOT_A_NUMBER', message: 'no' } }] };
    expect(decodeAnswer(encodeReply(ok), ref)).toEqual({ status: AnswerStatus.Reply, reply: ok });
    const plain = decodeAnswer(encodeReply({ ok: true, envelopes: [] }), ref);
    expect(plain).toEqual({ status: AnswerStatus.Reply, reply: { ok: true, envelopes: [] } });
    expect('results' in (plain as { reply: object }).reply).toBe(false);

    const errors = [new JournalContendedError(ref, 3), new JournalUnavailableError(new Error('down')), new CommandFailedError(new Error('bug')), { code: 'CAS_MISMATCH' as const, message: 'changed' }];
    for (const error of errors) {
      const answer = decodeAnswer(encodeReply({ ok: false, error }), ref) as { reply: { ok: false; error: Error & { code: string } } };
      expect(answer.reply.error.code).toBe(error.code);
      expect(answer.reply.error.message).toBe(error.message);
      if (error instanceof Error) expect(answer.reply.error).toBeInstanceOf(error.constructor);
    }
    expect(decodeAnswer(encodeStatus(AnswerStatus.Gone), ref)).toEqual({ status: AnswerStatus.Gone });
  });

  it('batches commands for one owner in one message, and their answers in one reply, in order', () => {
    const items = ['a', 'b', 'c'].map((key) => encodeForwarded(ref, { type: 'DeleteKey', key, by: 'u' }, undefined));
    const batch = decodeBatch(encodeBatch(items))!;
    expect(batch.map((item) => (decodeForwarded(item)!.command as { key: string }).key)).toEqual(['a', 'b', 'c']);
    expect(decodeBatch(items[0])).toBeUndefined();
    const answers = [encodeReply({ ok: true, envelopes: [] }), encodeStatus(AnswerStatus.TooLarge)];
    expect((decodeAnswers(encodeAnswers(answers)) as Uint8Array[]).map((a) => decodeAnswer(a, ref).status)).toEqual([AnswerStatus.Reply, AnswerStatus.TooLarge]);
    expect(decodeAnswers(encodeStatus(AnswerStatus.Gone))).toBe(AnswerStatus.Gone);
  });
});
