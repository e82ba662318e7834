// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Pausable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Pausable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// A plain ERC-20 with permit that anyone may mint: the test chain's token.
contract TestToken is ERC20, ERC20Permit {
    constructor() ERC20("Anpm Test Token", "ATT") ERC20Permit("Anpm Test Token") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// A token that burns 1 % of every transfer: custody receives less than was sent.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Fee Token", "FEE") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }

        uint256 fee = value / 100;
        super._update(from, to, value - fee);
        super._update(from, address(0), fee);
    }
}

/// A token anyone may pause: while paused every transfer reverts (a token that blocks payouts).
contract PausableTestToken is ERC20, ERC20Pausable {
    constructor() ERC20("Pausable Token", "PAU") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function pause() external {
        _pause();
    }

    function unpause() external {
        _unpause();
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Pausable) {
        super._update(from, to, value);
    }
}

interface IDepositRouter {
    function deposit(bytes32 ref, bytes32 poolId, uint8 action, uint256 amount) external;
}

/// A contract that makes several router deposits and a plain transfer to custody in one transaction (a batching
/// wallet): the listener must attribute each transfer of the receipt to its own deposit.
contract RouterBatch {
    function run(IERC20Like token, IDepositRouter router, address custody, bytes32[] calldata refs, bytes32 poolId,
        uint8[] calldata actions, uint256[] calldata amounts, uint256 plain) external {
        uint256 total;
        for (uint256 i = 0; i < amounts.length; i++) {
            total += amounts[i];
        }

        token.approve(address(router), total);
        for (uint256 i = 0; i < refs.length; i++) {
            router.deposit(refs[i], poolId, actions[i], amounts[i]);
            if (i == 0 && plain > 0) {
                token.transfer(custody, plain); // a plain transfer between two deposits, same payer
            }
        }
    }
}

interface IERC20Like {
    function approve(address spender, uint256 amount) external returns (bool);
    function transfer(address to, uint256 amount) external returns (bool);
}
