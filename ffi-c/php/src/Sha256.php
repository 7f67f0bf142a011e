<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;
use FFI\CData;

/**
 * An incremental SHA-256 (for invoices streamed from disk):
 * `$h = new Sha256(); $h->update($chunk); ...; $raw = $h->finish();`.
 * The C hasher is freed by finish() or when the object goes away.
 */
final class Sha256
{
    private ?CData $hasher;

    public function __construct()
    {
        $ffi = Ffi::get();
        $out = $ffi->new('ksef_sha256_hasher*');
        Ffi::check($ffi->ksef_sha256_hasher_new(PhpFfi::addr($out)));
        $this->hasher = $out;
    }

    /** Feeds more bytes. */
    public function update(string $data): self
    {
        Ffi::check(Ffi::get()->ksef_sha256_hasher_update($this->live(), Ffi::bytes($data), strlen($data)));
        return $this;
    }

    /** The hash of everything fed (32 raw bytes); the hasher cannot be used afterwards. */
    public function finish(): string
    {
        $ffi = Ffi::get();
        $h = $this->live();
        $this->hasher = null;
        $hash = $ffi->new('uint8_t[32]');
        Ffi::check($ffi->ksef_sha256_hasher_finish($h, $hash));
        return PhpFfi::string($hash, 32);
    }

    private function live(): CData
    {
        if ($this->hasher === null) {
            throw new \LogicException('the hasher was already finished');
        }
        return $this->hasher;
    }

    public function __destruct()
    {
        if ($this->hasher !== null) {
            Ffi::get()->ksef_sha256_hasher_free($this->hasher);
            $this->hasher = null;
        }
    }
}
