// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

/// @title Anpm deposit router
/// @notice Moves a payer's tokens to Anpm's custody address and records what they pay for, in one call: the action
/// (buy credits, contribute, stake, ...), the pool and a reference the payer's signed request chose. A reference is
/// used once: a second deposit with it reverts, so a deposit is attributed without guessing from sender and amount.
/// @dev The router never holds tokens (they go from the payer straight to custody), so no function here lets its owner
/// or anyone else move a payer's tokens. Pausing stops deposits only. Tokens that take a fee on transfer are refused:
/// custody must receive exactly the amount recorded.
contract AnpmDepositRouter is Ownable2Step, Pausable {
    using SafeERC20 for IERC20;

    /// @notice The one token this router moves.
    IERC20 public immutable token;

    /// @notice Where deposited tokens go: the address Anpm's deposit listener watches.
    address public immutable custody;

    /// @notice References already deposited.
    mapping(bytes32 ref => bool) public used;

    /// @notice A deposit of `amount` base units by `payer` for `action` in `poolId`, under the payer's `ref`.
    event Deposited(bytes32 indexed ref, address indexed payer, bytes32 indexed poolId, uint8 action, uint256 amount);

    error ReferenceUsed(bytes32 ref);
    error ZeroAmount();
    error ZeroAddress();
    error InexactTransfer(uint256 expected, uint256 received);

    constructor(IERC20 token_, address custody_, address owner_) Ownable(owner_) {
        if (address(token_) == address(0) || custody_ == address(0)) {
            revert ZeroAddress();
        }

        token = token_;
        custody = custody_;
    }

    /// @notice Moves `amount` of the payer's tokens (approved to this router beforehand) to custody for `action` in
    /// `poolId`, recorded under `ref`.
    function deposit(bytes32 ref, bytes32 poolId, uint8 action, uint256 amount) external whenNotPaused {
        if (amount == 0) {
            revert ZeroAmount();
        }

        if (used[ref]) {
            revert ReferenceUsed(ref);
        }

        used[ref] = true;
        uint256 before = token.balanceOf(custody);
        token.safeTransferFrom(msg.sender, custody, amount);
        uint256 received = token.balanceOf(custody) - before;
        if (received != amount) {
            revert InexactTransfer(amount, received);
        }

        emit Deposited(ref, msg.sender, poolId, action, amount);
    }

    /// @notice Stops deposits (nothing else: the router holds no tokens to withhold).
    function pause() external onlyOwner {
        _pause();
    }

    /// @notice Lets deposits in again.
    function unpause() external onlyOwner {
        _unpause();
    }
}
