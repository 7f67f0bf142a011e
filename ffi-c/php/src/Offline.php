<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;
use FFI\CData;

/**
 * Offline mode: the legal deadlines ({@see deadline()}) and the queue of invoices issued
 * while KSeF could not be used — issued with KOD I (and KOD II with an offline
 * certificate), listed, sent on recovery, corrected. Save {@see snapshotJson()} (or CBOR)
 * after each change and {@see restore()} it later.
 *
 * ```php
 * $queue = new Ksef\Offline('test');
 * $inv = $queue->issue('FV/1', $xml, 'offline24', '2026-02-16');
 * file_put_contents('kod1.png', $queue->qr('FV/1'));
 * // ... KSeF is back:
 * $report = $queue->send($client);
 * ```
 */
final class Offline extends Handle
{
    protected const FREE = 'ksef_offline_queue_free';

    /**
     * An empty queue for invoices of `$env` (`test`, `demo`, `prod`).
     *
     * @throws InvalidInputException 105 for another environment
     */
    public function __construct(string $env)
    {
        $ffi = Ffi::get();
        $out = $ffi->new('ksef_offline_queue*');
        Ffi::check($ffi->ksef_offline_queue_new($env, strlen($env), PhpFfi::addr($out)));
        $this->adopt($out);
    }

    /**
     * A queue from a snapshot (JSON or CBOR). The KOD II signer is not part of it.
     *
     * @throws OfflineException 703 when the snapshot cannot be read
     */
    public static function restore(string $snapshot): self
    {
        $ffi = Ffi::get();
        $out = $ffi->new('ksef_offline_queue*');
        Ffi::check($ffi->ksef_offline_queue_restore(Ffi::bytes($snapshot), strlen($snapshot), PhpFfi::addr($out)));
        $q = (new \ReflectionClass(self::class))->newInstanceWithoutConstructor();
        $q->adopt($out);
        return $q;
    }

    /**
     * The deadline of an invoice issued offline.
     *
     * @param string                   $mode     `offline24`, `unavailability`, `emergency` or `total-failure`
     * @param string|null              $date     the issue date (offline24) or the day the failure ended
     * @param array<mixed>|string|null $failures later failure announcements `[{"announced","ended"}]`
     * @param string|null              $today    adds the status (`ok`, `due-today`, `overdue`, `no-obligation`)
     * @return array<mixed> `{"mode", "deadline": "YYYY-MM-DD"|null, "status"?}`
     */
    public static function deadline(string $mode, ?string $date = null, array|string|null $failures = null, ?string $today = null): array
    {
        $d = $date ?? '';
        $f = $failures === null ? '' : Ffi::json($failures);
        $t = $today ?? '';
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_deadline(
            $mode, strlen($mode), $d, strlen($d), $f, strlen($f), $t, strlen($t), $o));
    }

    /**
     * Sets the offline certificate and key (PEM or DER) that sign KOD II of the invoices
     * issued from now on; null for both removes it. The key stays in memory only.
     *
     * @param string $contextType `nip`, `internal-id`, `nip-vat-ue` or `peppol-id`
     */
    public function setSigner(?string $certificate, ?string $key, string $contextType = 'nip', string $contextValue = ''): void
    {
        $c = $certificate ?? '';
        $k = $key ?? '';
        Ffi::check(Ffi::get()->ksef_offline_queue_set_signer(
            $this->ptr(), Ffi::bytes($c), strlen($c), Ffi::bytes($k), strlen($k),
            $contextType, strlen($contextType), $contextValue, strlen($contextValue)));
    }

    /**
     * Issues an invoice offline: the exact XML bytes are queued under `$id`, KOD I computed,
     * KOD II signed when a signer is set, the deadline set from `$mode` and `$date`.
     *
     * @return array<mixed> `{"id", "hash", "seller_nip", "issue_date", "mode", "deadline", "kod1_url", "kod2_url", "status"}`
     * @throws KsefException 700 (duplicate id or bytes), 1xx (XML), 105 (mode/date)
     */
    public function issue(string $id, string|Invoice $xml, string $mode = 'offline24', ?string $date = null): array
    {
        $x = $xml instanceof Invoice ? $xml->toXml() : $xml;
        $d = $date ?? '';
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_queue_issue(
            $this->ptr(), $id, strlen($id), Ffi::bytes($x), strlen($x), $mode, strlen($mode), $d, strlen($d), $o));
    }

    /** The QR image of a queued invoice: KOD I (or KOD II with `$kod2`), PNG (or SVG with `$svg`). */
    public function qr(string $id, bool $kod2 = false, bool $svg = false): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_offline_queue_qr(
            $this->ptr(), $id, strlen($id), $kod2, $svg, $o));
    }

    /**
     * The queue (`{"env", "failures", "invoices": [...]}`); with `$today` each invoice says
     * where it stands against its deadline.
     *
     * @return array<mixed>
     */
    public function list(?string $today = null): array
    {
        $t = $today ?? '';
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_queue_list_json($this->ptr(), $t, strlen($t), $o));
    }

    /**
     * The open invoices whose deadline passed before `$today` (null: the system date).
     *
     * @return list<array<mixed>>
     */
    public function overdue(?string $today = null): array
    {
        $t = $today ?? '';
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_queue_overdue_json($this->ptr(), $t, strlen($t), $o));
    }

    /**
     * Sends every pending invoice (and pending technical corrections) over `$client`.
     * A rejection is in the report, not an exception.
     *
     * @return array<mixed> `{"accepted": [{"id","ksef_number"}], "rejected": [{"id","code","message"}],
     *                      "open", "not_sent", "missed_deadline"}`
     */
    public function send(Client $client, ?string $today = null): array
    {
        $t = $today ?? '';
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_queue_send(
            $this->ptr(), $client->raw(), $t, strlen($t), $o));
    }

    /**
     * As {@see send()}, with the invoices in batch sessions (many invoices; up to 10,000 per
     * session, `offlineMode`); technical corrections still go one per online session.
     *
     * @return array<mixed> the same report as {@see send()}
     */
    public function sendBatch(Client $client, ?string $today = null): array
    {
        $t = $today ?? '';
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_queue_send_batch(
            $this->ptr(), $client->raw(), $t, strlen($t), $o));
    }

    /**
     * Queues the technical correction of a rejected invoice: the fixed XML under `$id`.
     *
     * @return array<mixed>
     */
    public function correct(string $rejectedId, string $id, string|Invoice $xml): array
    {
        $x = $xml instanceof Invoice ? $xml->toXml() : $xml;
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_queue_correct(
            $this->ptr(), $rejectedId, strlen($rejectedId), $id, strlen($id), Ffi::bytes($x), strlen($x), $o));
    }

    /** Puts a rejected invoice back to pending (after a transport failure). */
    public function retry(string $id): void
    {
        Ffi::check(Ffi::get()->ksef_offline_queue_retry($this->ptr(), $id, strlen($id)));
    }

    /**
     * Records a KSeF failure announcement; returns the deadlines that moved.
     *
     * @return list<array<mixed>> `[{"id", "from", "to"}]`
     */
    public function announceFailure(string $announced, string $ended): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_offline_queue_announce_failure(
            $this->ptr(), $announced, strlen($announced), $ended, strlen($ended), $o));
    }

    /** The whole queue as JSON (no secrets), for {@see restore()}. */
    public function snapshotJson(): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_offline_queue_snapshot_json($this->ptr(), $o));
    }

    /** The whole queue as CBOR, for {@see restore()}. */
    public function snapshotCbor(): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_offline_queue_snapshot_cbor($this->ptr(), $o));
    }
}
