// The package's public surface for business services: the envelope contract and the publisher SDK.
export {};
