<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;
use FFI\CData;

/**
 * An invoice (the FA(3)/FA(2) model) read from XML or JSON or built from the builder's
 * JSON, written back as XML or JSON, and checked against the business rules.
 *
 * ```php
 * $inv = Ksef\Invoice::fromXml(file_get_contents('FV_1.xml'));
 * $report = $inv->validate();           // ['valid' => ..., 'issues' => [...]]
 * $json = $inv->toArray();              // the JSON form (docs/JSON.md) as an array
 * ```
 */
final class Invoice extends Handle
{
    /** FA(3), the current structure. */
    public const FA3 = 3;
    /** FA(2), the previous structure (still read). */
    public const FA2 = 2;

    protected const FREE = 'ksef_invoice_free';

    private function __construct(CData $handle)
    {
        $this->adopt($handle);
    }

    /**
     * Reads FA(3) or FA(2) XML (UTF-8; DTDs refused).
     *
     * @throws InvalidInputException 100-105 with the element path
     */
    public static function fromXml(string $xml): self
    {
        $ffi = Ffi::get();
        $out = $ffi->new('ksef_invoice*');
        Ffi::check($ffi->ksef_invoice_from_xml(Ffi::bytes($xml), strlen($xml), PhpFfi::addr($out)));
        return new self($out);
    }

    /**
     * Reads the JSON form (docs/JSON.md), meant for `$schema`.
     *
     * @param array<string, mixed>|string $json
     * @throws InvalidInputException 106 (syntax), 105/104/103 with the JSON path
     */
    public static function fromJson(array|string $json, int $schema = self::FA3): self
    {
        $ffi = Ffi::get();
        $text = Ffi::json($json);
        $out = $ffi->new('ksef_invoice*');
        Ffi::check($ffi->ksef_invoice_from_json($text, strlen($text), $schema, PhpFfi::addr($out)));
        return new self($out);
    }

    /**
     * Builds an invoice from the builder's JSON input (seller, buyer, lines with net or
     * gross prices; totals computed), for `$schema`.
     *
     * @param array<string, mixed>|string $builder
     * @throws InvalidInputException 301 (inconsistent input), 106, 105 with the JSON path
     */
    public static function build(array|string $builder, int $schema = self::FA3): self
    {
        $ffi = Ffi::get();
        $text = Ffi::json($builder);
        $out = $ffi->new('ksef_invoice*');
        Ffi::check($ffi->ksef_invoice_build($text, strlen($text), $schema, PhpFfi::addr($out)));
        return new self($out);
    }

    /** The schema version ({@see FA3} or {@see FA2}). */
    public function schema(): int
    {
        return Ffi::get()->ksef_invoice_schema($this->ptr());
    }

    /**
     * Changes the schema the invoice is written in.
     *
     * @throws KsefException 200 when the content does not fit the schema
     */
    public function setSchema(int $schema): self
    {
        Ffi::check(Ffi::get()->ksef_invoice_set_schema($this->ptr(), $schema));
        return $this;
    }

    /** The invoice as XML of its schema. */
    public function toXml(): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_invoice_to_xml($this->ptr(), $o));
    }

    /** The JSON form as text. */
    public function toJson(): string
    {
        return Ffi::callBuffer(fn (CData $o) => Ffi::get()->ksef_invoice_to_json($this->ptr(), $o));
    }

    /**
     * The JSON form as an array (amounts stay strings: money is decimal).
     *
     * @return array<mixed>
     */
    public function toArray(): array
    {
        return Ffi::decode($this->toJson());
    }

    /**
     * Checks the business rules beyond the XSD; `$today` (`YYYY-MM-DD`, default: the
     * system date) for the date rules.
     *
     * @return array<mixed> the report (problems are in it, not thrown)
     */
    public function validate(?string $today = null): array
    {
        return Ffi::callJson(fn (CData $o) => Ffi::get()->ksef_invoice_validate(
            $this->ptr(), $today, strlen($today ?? ''), $o));
    }

    /**
     * As {@see validate()}, throwing when there are errors.
     *
     * @throws ValidationException code 300, the report in getDetail()
     */
    public function check(?string $today = null): void
    {
        Ffi::check(Ffi::get()->ksef_invoice_check($this->ptr(), $today, strlen($today ?? '')));
    }
}
