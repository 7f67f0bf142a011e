<?php

declare(strict_types=1);

namespace Ksef;

use FFI as PhpFfi;
use FFI\CData;

/**
 * An opaque handle of the C library (`ksef_client *`, `ksef_invoice *`, ...), freed with its
 * `_free` function when the object goes away or on {@see close()}. Not for use from two
 * threads at once (PHP's ZTS builds).
 */
abstract class Handle
{
    /** The C function that frees this kind of handle. */
    protected const FREE = '';

    protected ?CData $handle = null;

    /** Takes ownership of a handle a constructor function wrote. */
    protected function adopt(CData $handle): void
    {
        $this->handle = $handle;
    }

    /**
     * The live handle.
     *
     * @throws \LogicException after {@see close()} or when another object took it over
     */
    protected function ptr(): CData
    {
        if ($this->handle === null || PhpFfi::isNull($this->handle)) {
            throw new \LogicException(static::class . ' was closed or taken over');
        }
        return $this->handle;
    }

    /** Frees the C handle now (also done when the object goes away); idempotent. */
    public function close(): void
    {
        if ($this->handle !== null) {
            if (!PhpFfi::isNull($this->handle)) {
                Ffi::get()->{static::FREE}($this->handle);
            }
            $this->handle = null;
        }
    }

    public function __destruct()
    {
        $this->close();
    }

    /** Handles are not copied (two owners would free one handle twice). */
    public function __clone()
    {
        throw new \LogicException(static::class . ' cannot be cloned');
    }
}
