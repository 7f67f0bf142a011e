<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;
use FFI\CData;

/**
 * Paired mode for one store: an order becomes an FA(3) invoice in KSeF and the customer's
 * Fakturownia document carrying the KSeF number (`gov_id`). The engine keeps numbering
 * counters, jobs and an audit trail: save {@see snapshotJson()} (or CBOR) after each request
 * and {@see restore()} it in the next one (PHP forgets everything between requests).
 *
 * ```php
 * $engine = new Ksef\Paired($rules, [
 *     'fakturownia_token' => getenv('FAKTUROWNIA_TOKEN'),
 * ], new Ksef\Client(['environment' => 'test', 'nip' => '5265877635', 'ksef_token' => $token]));
 * $r = $engine->submitOrder($order, 'status');
 * echo $r['job']['ksef_number'], ' ', $r['job']['fakturownia_id'];
 * file_put_contents($stateFile, $engine->snapshotCbor());
 * ```
 */
final class Paired extends Handle
{
    protected const FREE = 'ksef_paired_free';

    /**
     * A new engine.
     *
     * @param array<string, mixed>|string $rules    the rule configuration (examples/paired/rules.json)
     * @param array<string, mixed>|string $settings `{"store"?, "mode"?: "ksef-first"|"simultaneous",
     *                                              "fakturownia_url"?, "fakturownia_token", "nbp_url"?, "push_secret"?}`
     * @param Client                      $client   the store seller's client; the engine takes it over
     *                                              (the Client object is closed on success)
     * @throws InvalidInputException 621 (rules, with the JSON path), 105 (settings)
     */
    public function __construct(array|string $rules, array|string $settings, Client $client)
    {
        $ffi = Ffi::get();
        $r = Ffi::json($rules);
        $s = Ffi::json($settings);
        $out = $ffi->new('ksef_paired*');
        Ffi::check($ffi->ksef_paired_new($r, strlen($r), $s, strlen($s), $client->slot(), PhpFfi::addr($out)));
        $client->close(); // its handle is now NULL: the engine owns the client
        $this->adopt($out);
    }

    /**
     * An engine from a snapshot of {@see snapshotJson()} or {@see snapshotCbor()}.
     *
     * @param array<string, mixed>|string $rules
     * @param array<string, mixed>|string $settings
     * @throws PairedException 642 when the snapshot cannot be read
     */
    public static function restore(string $snapshot, array|string $rules, array|string $settings, Client $client): self
    {
        $ffi = Ffi::get();
        $r = Ffi::json($rules);
        $s = Ffi::json($settings);
        $out = $ffi->new('ksef_paired*');
        Ffi::check($ffi->ksef_paired_restore(
            Ffi::bytes($snapshot), strlen($snapshot), $r, strlen($r), $s, strlen($s),
            $client->slot(), PhpFfi::addr($out)));
        $client->close();
        $p = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $p->adopt($out);
        return $p;
    }

    /**
     * Evaluates an order for `$trigger` (`created`, `status`, `captured`, `manual`) and runs
     * both channels to the end. A discrepancy (e.g. KSeF accepted, Fakturownia down) is in
     * the job's `status`, not an exception.
     *
     * @param array<string, mixed>|string $order
     * @return array<mixed> `{"outcome": "submitted"|"skipped", "reason"?, "job"?, "events"}`
     * @throws KsefException 620-627 for a bad order, 640 for an order issued before
     */
    public function submitOrder(array|string $order, string $trigger = 'status'): array
    {
        $json = Ffi::json($order);
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_submit_order(
            $this->ptr(), $json, strlen($json), $trigger, strlen($trigger), $o));
    }

    /**
     * Runs until nothing is left to do (after restore or a webhook).
     *
     * @return list<array<mixed>> the events
     */
    public function run(): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_run($this->ptr(), $o));
    }

    /**
     * The recovery that fits a job's state, run to the end.
     *
     * @return array<mixed> `{"action", "job", "events"}`
     */
    public function retry(string $job): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_retry($this->ptr(), $job, strlen($job), $o));
    }

    /**
     * Applies an inbound webhook body (Fakturownia invoice update, KSeF status push);
     * call {@see run()} afterwards.
     *
     * @return array<mixed> `{"job"}`
     * @throws PairedException 641 for a forged or malformed body
     */
    public function applyWebhook(string $body): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_apply_webhook(
            $this->ptr(), Ffi::bytes($body), strlen($body), $o));
    }

    /** The PDF of a job's Fakturownia document. */
    public function pdf(string $job): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_paired_pdf($this->ptr(), $job, strlen($job), $o));
    }

    /** The engine's state as JSON (no secrets), for {@see restore()}. */
    public function snapshotJson(): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_paired_snapshot_json($this->ptr(), $o));
    }

    /** The engine's state as CBOR (smaller), for {@see restore()}. */
    public function snapshotCbor(): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_paired_snapshot_cbor($this->ptr(), $o));
    }

    /**
     * The jobs and their states.
     *
     * @return array<mixed> `{"store", "mode", "idle", "discrepancies", "jobs": [...]}`
     */
    public function status(): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_status_json($this->ptr(), $o));
    }

    /**
     * One job with its documents (`xml`, `fakturownia_document`, `upo`).
     *
     * @return array<mixed>
     */
    public function job(string $job): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_job_json($this->ptr(), $job, strlen($job), $o));
    }

    /**
     * The audit trail, one entry per step.
     *
     * @return list<array<mixed>>
     */
    public function audit(): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_audit_json($this->ptr(), $o));
    }

    /**
     * What Latarnia (KSeF's status service, see {@see Lighthouse::status()}) says now:
     * `AVAILABLE`, `MAINTENANCE`, `FAILURE` or `TOTAL_FAILURE`. With offline issuing on
     * (`"offline"` in the settings: the offline certificate and key), new orders are issued
     * offline without a KSeF attempt while KSeF is not available.
     *
     * @throws KsefException 901 for an unknown status
     */
    public function setKsefStatus(string $status): void
    {
        Ffi::check(Ffi::get()->ksef_paired_set_ksef_status($this->ptr(), $status, strlen($status)));
    }

    /**
     * Records an announced KSeF failure (`YYYY-MM-DD` days): the deadlines of the invoices
     * waiting offline move.
     */
    public function announceFailure(string $announced, string $ended): void
    {
        Ffi::check(Ffi::get()->ksef_paired_announce_failure(
            $this->ptr(), $announced, strlen($announced), $ended, strlen($ended)));
    }

    /**
     * Once KSeF is back: sends the invoices issued offline (oldest deadline first,
     * `offlineMode`) and completes their jobs (the Fakturownia document, or the KSeF-number
     * backfill).
     *
     * @return array<mixed> `{"sent": N, "events": [...], "offline": {queue}}`
     */
    public function recoverOffline(int $max = 10000): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_paired_recover_offline($this->ptr(), $max, $o));
    }

    /**
     * The invoices issued offline (id = job id, status, deadline, KOD I/II links), or null
     * when offline issuing is off.
     *
     * @return array<mixed>|null
     */
    public function offline(): ?array
    {
        $json = Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_paired_offline_json($this->ptr(), $o));
        return $json === 'null' ? null : Ffi::decode($json);
    }
}
